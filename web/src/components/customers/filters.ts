import { reactive } from 'vue'
import type { CustomerKind, CustomerListQuery } from '@/api/customers'

export type Scope = 'mine' | 'department' | 'all'
export const SCOPES: readonly Scope[] = ['mine', 'department', 'all']

/** What the customer list screen lets the user pick. */
export interface ListFilters {
  keyword: string
  scope: Scope
  /** '' = any; 'none' = not rated yet (the API's value for a blank level). */
  creditLevel: string
  tagId: number | null
  kind: CustomerKind | ''
}

export function defaultFilters(): ListFilters {
  return { keyword: '', scope: 'mine', creditLevel: '', tagId: null, kind: '' }
}

/**
 * Screen filters → the API query. 我的 sends mine=true; 本部门 sends the user's department
 * (the server includes its sub-departments and still applies the data scope); 全部 sends
 * neither, so the server's data scope alone decides.
 */
export function filtersToQuery(f: ListFilters, departmentId: number | null | undefined): CustomerListQuery {
  const q: CustomerListQuery = {}
  const keyword = f.keyword.trim()
  if (keyword) q.q = keyword
  if (f.scope === 'mine') q.mine = true
  else if (f.scope === 'department' && departmentId) q.department_id = departmentId
  if (f.creditLevel) q.credit_level = f.creditLevel
  if (f.tagId) q.tag = f.tagId
  if (f.kind) q.kind = f.kind
  return q
}

/** How many chip filters (not scope, not keyword) are on. */
export function activeChipCount(f: ListFilters): number {
  return [f.creditLevel, f.tagId, f.kind].filter(Boolean).length
}

/** Kept for the session, so coming back from a customer keeps the list as it was. */
export const listFilters = reactive<ListFilters>(defaultFilters())

/** What the recursive tree components share with the designer page (provide / inject). */
import { inject, type ComputedRef, type InjectionKey, type Ref } from 'vue'
import type { FlowIssue } from '@/api/flowDesign'
import type { ListId, SummaryContext } from './tree'

export interface DesignerContext {
  readonly: boolean
  selectedId: Ref<string | null>
  /** Issues by node / branch id ('' = the whole flow). */
  issues: ComputedRef<Map<string, FlowIssue[]>>
  summary: ComputedRef<SummaryContext>
  select: (id: string) => void
  openInsert: (listId: ListId, index: number) => void
  addBranch: (groupId: string) => void
  moveBranch: (branchId: string, delta: number) => void
  canMoveBranch: (branchId: string, delta: number) => boolean
}

export const DESIGNER_KEY: InjectionKey<DesignerContext> = Symbol('flowDesigner')

export function useDesigner(): DesignerContext {
  const ctx = inject(DESIGNER_KEY)
  if (!ctx) throw new Error('flow designer context missing')
  return ctx
}

export const KIND_ICONS: Record<string, string> = {
  start: 'user-o',
  approval: 'manager-o',
  cc: 'envelop-o',
  condition_group: 'share-o',
  automated: 'setting-o',
  end: 'passed',
}

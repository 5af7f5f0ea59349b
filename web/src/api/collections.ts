import { http, type RequestOptions } from './client'
import type { Page } from './types'

/** Work own collection cases (the collector's workbench). */
export const COLLECTIONS_WORK_PERM = 'collections.work'
/** Teams, reassignment, the manager's views, every case in the data scope. */
export const COLLECTIONS_MANAGE_PERM = 'collections.manage'

export type CaseStatus = 'open' | 'promised' | 'closed'
export type CloseReason = '' | 'paid' | 'written_off' | 'manual'
export type ActionKind = 'call' | 'sms' | 'visit' | 'letter'
export type ActionResult = 'promised' | 'no_answer' | 'refused' | 'lost_contact' | 'paid' | 'other'
export type PromiseStatus = 'pending' | 'kept' | 'broken'
export type TeamKind = 'in_house' | 'legal' | 'outsourced'
export type TeamStrategy = 'round_robin' | 'owner' | 'fixed'

export const ACTION_KINDS: ActionKind[] = ['call', 'sms', 'visit', 'letter']
export const ACTION_RESULTS: ActionResult[] = ['promised', 'no_answer', 'refused', 'lost_contact', 'paid', 'other']
export const TEAM_KINDS: TeamKind[] = ['in_house', 'legal', 'outsourced']
export const TEAM_STRATEGIES: TeamStrategy[] = ['round_robin', 'owner', 'fixed']

export interface UserRef {
  id: number
  username: string
  full_name: string
}

export interface CaseItem {
  id: number
  status: CaseStatus
  close_reason: CloseReason
  loan_id: number
  contract_no: string
  /** phone is masked; the call button reveals it (audited). */
  customer: { id: number; name: string; phone: string }
  collector: UserRef | null
  team: { id: number; name: string } | null
  bucket: string
  dpd: number
  opened_bucket: string
  opened_dpd: number
  /** Yuan strings. */
  overdue: string
  owed_today: string
  priority: number
  promise_date: string | null
  promise_due: boolean
  last_result: ActionResult | ''
  last_action_at: string | null
  next_action_at: string | null
  opened_at: string
  closed_at: string | null
}

export interface CaseAction {
  id: number
  case_id: number
  kind: ActionKind | 'system'
  result: ActionResult | ''
  event: string
  /** System entries, rendered by the server in the user's language. */
  text: string
  note: string
  at: string
  by: UserRef | null
}

export interface PromiseToPay {
  id: number
  date: string
  amount: string
  paid: string
  status: PromiseStatus
  created_on: string
  decided_on: string | null
  note: string
}

export interface OwedToday {
  on: string
  principal: string
  interest: string
  fee: string
  penalty: string
  total: string
  installments: { seq: number; due_date: string; total: string }[]
}

export interface CaseDetail extends CaseItem {
  loan: {
    id: number
    contract_no: string
    product: string
    principal: string
    outstanding_principal: string
    status: string
    days_past_due: number
    bucket: string
    overdue_since: string | null
    maturity_date: string
    periods: number
  }
  owed: OwedToday
  actions: CaseAction[]
  promises: PromiseToPay[]
  can_manage: boolean
  can_work: boolean
}

export interface SummaryRow {
  key: string
  label: string
  cases: number
  amount: string
}

export interface CollectionsSummary {
  business_date: string
  cases: number
  amount: string
  promises_due: number
  by_bucket: SummaryRow[]
  by_collector: SummaryRow[]
  by_result: SummaryRow[]
}

export interface Team {
  id: number
  name: string
  kind: TeamKind
  strategy: TeamStrategy
  buckets: string[]
  members: UserRef[]
  fixed_user: UserRef | null
  escalation_order: number
  active: boolean
  open_cases: number
}

export interface TeamInput {
  name: string
  kind: TeamKind
  strategy: TeamStrategy
  buckets: string[]
  member_ids: number[]
  fixed_user_id: number | null
  escalation_order: number
  active: boolean
}

export interface CollectionsMeta {
  business_date: string
  buckets: string[]
  max_promise_days: number
}

export interface CaseQuery {
  view?: 'today' | 'all'
  status?: CaseStatus | ''
  bucket?: string
  collector_id?: number
  team_id?: number
  result?: string
  q?: string
  page?: number
  page_size?: number
}

export interface ActionInput {
  kind: ActionKind
  result: ActionResult
  note: string
}

export interface PromiseInput {
  date: string
  amount: string
  note: string
}

type Options = Omit<RequestOptions, 'body'>
const BASE = '/postloan/collections'

export const collectionsApi = {
  meta: (options?: Options) => http.get<CollectionsMeta>(`${BASE}/meta`, undefined, options),
  cases: (query: CaseQuery = {}, options?: Options) =>
    http.get<Page<CaseItem>>(`${BASE}/cases`, { ...query } as Record<string, string | number | undefined>, options),
  case: (id: number, options?: Options) => http.get<CaseDetail>(`${BASE}/cases/${id}`, undefined, options),
  open: (body: { loan_id: number; team_id?: number; assign_to?: 'team' | 'owner' }, options?: Options) =>
    http.post<CaseDetail>(`${BASE}/cases`, body, options),
  logAction: (id: number, body: ActionInput, options?: Options) =>
    http.post<CaseAction>(`${BASE}/cases/${id}/actions`, body, options),
  promise: (id: number, body: PromiseInput, options?: Options) =>
    http.post<PromiseToPay>(`${BASE}/cases/${id}/promises`, body, options),
  reassign: (id: number, body: { collector_id: number; team_id?: number; note?: string }, options?: Options) =>
    http.post<CaseDetail>(`${BASE}/cases/${id}/reassign`, body, options),
  escalate: (id: number, body: { team_id?: number; note?: string } = {}, options?: Options) =>
    http.post<CaseDetail>(`${BASE}/cases/${id}/escalate`, body, options),
  close: (id: number, note: string, options?: Options) => http.post<CaseDetail>(`${BASE}/cases/${id}/close`, { note }, options),
  /** The customer's phone in plain text for the one-tap call (audited on the server). */
  revealPhone: (id: number, options?: Options) =>
    http.post<{ field: 'phone'; value: string }>(`${BASE}/cases/${id}/reveal-phone`, {}, options),
  summary: (options?: Options) => http.get<CollectionsSummary>(`${BASE}/summary`, undefined, options),
  customerCases: (customerId: number, options?: Options) =>
    http.get<{ cases: CaseItem[]; actions: CaseAction[] }>(`${BASE}/customers/${customerId}`, undefined, options),
  teams: (options?: Options) => http.get<Team[]>(`${BASE}/teams`, undefined, options),
  createTeam: (body: TeamInput, options?: Options) => http.post<Team>(`${BASE}/teams`, body, options),
  updateTeam: (id: number, body: TeamInput, options?: Options) => http.put<Team>(`${BASE}/teams/${id}`, body, options),
  collectors: (options?: Options) => http.get<UserRef[]>(`${BASE}/collectors`, undefined, options),
}

/** A `tel:` link for a plain phone number (digits and a leading + only). */
export function telHref(phone: string): string {
  const clean = phone.replace(/[^\d+]/g, '')
  return clean ? `tel:${clean}` : ''
}

/** Client-side check of a promise amount: a positive yuan amount with at most two decimals. */
export function amountProblem(value: string): 'required' | 'invalid' | '' {
  const v = value.trim()
  if (!v) return 'required'
  if (!/^\d{1,11}(\.\d{1,2})?$/.test(v) || Number(v) <= 0) return 'invalid'
  return ''
}

/** Client-side check of a promise date against the business date and the allowed window. */
export function dateProblem(value: string, businessDate: string, maxDays: number): 'required' | 'past' | 'far' | '' {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'required'
  if (value < businessDate) return 'past'
  if (value > addDays(businessDate, maxDays)) return 'far'
  return ''
}

export function addDays(iso: string, days: number): string {
  const [y = 1970, m = 1, d = 1] = iso.split('-').map(Number)
  const dt = new Date(Date.UTC(y, m - 1, d + days))
  return dt.toISOString().slice(0, 10)
}

/** Short user label. */
export function userName(u: UserRef | null | undefined): string {
  return u ? u.full_name || u.username : ''
}

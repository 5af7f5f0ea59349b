/**
 * Flows API (/api/v1/flows, 审批): instances, tasks, the inbox and process analytics.
 * Shapes follow docs/api-flows.md; the engine's progress items follow docs/flow-engine.md.
 */
import { http } from './client'
import type { RiskResult } from './risk'
import type { Page } from './types'

export const FLOWS_PERMS = {
  design: 'flows.design',
  admin: 'flows.admin',
  analytics: 'flows.analytics',
} as const

export type InstanceStatus = 'running' | 'returned' | 'error' | 'approved' | 'rejected' | 'withdrawn' | 'cancelled'
export const FINAL_STATUSES: readonly InstanceStatus[] = ['approved', 'rejected', 'withdrawn', 'cancelled']

export type ActAction =
  | 'approve'
  | 'reject'
  | 'return'
  | 'transfer'
  | 'add_signer_before'
  | 'add_signer_after'
  | 'comment'

export type ProgressStatus = 'done' | 'current' | 'pending' | 'skipped'
export type FieldPermission = 'hidden' | 'read' | 'edit'

/** A person as the API names them; the engine's raw progress carries bare user ids. */
export interface PersonRef {
  id: number | string
  name: string
}
export type Person = PersonRef | string | number | null

export interface ProgressAct {
  actor: Person
  actor_name?: string
  action: string
  action_label?: string
  at: string
  target?: Person | null
  target_name?: string
  comment?: string | null
  attachments?: Array<string | AttachmentRef>
  signature?: string | null
  duration_seconds?: number | null
}

export interface AttachmentRef {
  id: string
  name?: string
  url?: string | null
}

export interface ProgressItem {
  node_id: string
  kind: string
  name: string
  status: ProgressStatus
  depth: number
  branch_id: string | null
  outcome: string | null
  chosen_branch: string | null
  entered_at: string | null
  left_at: string | null
  duration_seconds: number | null
  waiting_for: Person[]
  due_at: string | null
  acts: ProgressAct[]
  /** Optional: the branch's display name (condition groups and their branches). */
  branch_name?: string | null
  chosen_branch_name?: string | null
}

export interface RecordField {
  key: string
  label: string
  type: string
  value: unknown
  display: string
  permission: FieldPermission
}

export interface InstanceCustomer {
  id: number
  name: string
  id_number_masked: string
  phone_masked: string
  credit_level: string | null
  owner: string | null
  tags: string[]
  loan_count: number
  outstanding: string | null
}

export type { RiskResult }

export interface HistoryItem {
  seq: number
  at: string
  actor: PersonRef | null
  action: string
  action_label: string
  node_id: string | null
  node_name: string | null
  comment: string | null
  attachments: Array<string | AttachmentRef>
  signature: string | null
  target: Person | string | null
  duration_seconds: number | null
}

export interface ReturnOption {
  id: string
  name: string
}

export interface MyTask {
  id: number
  engine_task_id: string
  node_id: string
  node_name: string
  actions: ActAction[]
  return_options: ReturnOption[]
  editable_fields: string[]
  due_at: string | null
}

export interface InstanceDetail {
  id: number
  title: string
  status: InstanceStatus
  status_label: string
  version: number
  flow: { key: string; name: string; version: number }
  initiator: { id: number; name: string; department: string | null }
  started_at: string
  finished_at: string | null
  current_node: { id: string; name: string } | null
  /** The engine's error while status is `error`. */
  error?: { code: string; node_id: string | null; message: string } | null
  record: {
    form_code: string
    id: number
    serial_no: string
    fields: RecordField[]
  }
  customer: InstanceCustomer | null
  risk: RiskResult | null
  contract: { document_id: number; file_name: string; contract_no: string; url?: string | null } | null
  loan: { id: number; contract_no: string } | null
  progress: ProgressItem[]
  history: HistoryItem[]
  my_task: MyTask | null
  can_withdraw: boolean
  can_urge: boolean
  can_resubmit: boolean
  can_retry: boolean
  can_cancel: boolean
  status_url: string | null
}

export interface ActIn {
  task_id: number
  action: ActAction
  comment?: string
  attachments?: string[]
  signature?: string
  target?: string
  data?: Record<string, unknown>
  expected_version?: number
}

export interface InboxCounts {
  todo: number
  done: number
  cc_unread: number
  mine_running: number
}

export interface TodoItem {
  task_id: number
  instance_id: number
  title: string
  flow_name: string
  node_name: string
  initiator: string | PersonRef | null
  amount: string | null
  created_at: string
  due_at: string | null
  overdue: boolean
  urged_at: string | null
  can_batch: boolean
}

export interface DoneItem {
  task_id: number
  instance_id: number
  title: string
  flow_name: string
  node_name: string
  initiator: string | PersonRef | null
  amount: string | null
  action: string
  action_label?: string
  closed_at: string
  status: InstanceStatus
  status_label?: string
}

export interface CcItem {
  id: number
  instance_id: number
  title: string
  node_name: string
  created_at: string
  read: boolean
  flow_name?: string
  initiator?: string | PersonRef | null
  amount?: string | null
}

export interface MineItem {
  instance_id: number
  id?: number
  title: string
  flow_name: string
  status: InstanceStatus
  status_label?: string
  current_node: { id: string; name: string } | string | null
  waiting_for: Person[] | string | null
  amount: string | null
  started_at?: string
  created_at?: string
  updated_at?: string
}

/** One row of the customer 360 申请 tab (GET /flows/customers/{id}/applications). */
export interface CustomerApplication {
  instance_id: number
  serial_no: string
  title: string
  flow_name: string
  amount: string | null
  product: string | null
  status: InstanceStatus
  status_label: string
  /** The status, or 'disbursed' once the loan is booked. */
  stage: InstanceStatus | 'disbursed'
  /** 审批中 · 风控审核 / 已通过 / 已放款 …, in the caller's language. */
  stage_label: string
  current_node: { id: string; name: string } | null
  loan: { id: number; contract_no: string } | null
  initiator: PersonRef
  started_at: string
  finished_at: string | null
}

export interface CursorPage<T> {
  items: T[]
  next: string | null
}

export interface BatchResult {
  task_id: number
  ok: boolean
  code?: string
  message?: string
}

export interface StartInfo {
  flow_key: string
  name: string
  version: number
  choice_nodes: Array<{ node_id: string; name: string; multiple: boolean }>
}

export interface BorrowerProgress {
  status: InstanceStatus
  summary: string
  steps: Array<{ label: string; status: ProgressStatus; text: string }>
}

export interface Analytics {
  instances: {
    total: number
    running: number
    approved: number
    rejected: number
    withdrawn: number
    cancelled: number
    error: number
  }
  approval_rate: number | string | null
  turnaround_hours: { median: number | string | null; p90: number | string | null }
  nodes: Array<{
    node_id: string
    name: string
    tasks: number
    median_hours: number | string | null
    p90_hours: number | string | null
    overdue: number
    rejected: number
    returned: number
  }>
  approvers: Array<{ user: PersonRef; tasks: number; median_hours: number | string | null }>
}

export interface DefinitionSummary {
  key: string
  name: string
  form_code: string
  is_active: boolean
  published_version: number | null
}

export type InboxTab = 'todo' | 'done' | 'cc' | 'mine'

const base = '/flows'

export const flowsApi = {
  counts: () => http.get<InboxCounts>(`${base}/inbox/counts`, undefined, { quiet: true }),
  /** The approval a form record started (404 when none, or not visible). */
  instanceOfRecord: (recordId: number) =>
    http.get<{ id: number; status: InstanceStatus; status_label: string }>(`${base}/records/${recordId}/instance`, undefined, {
      quiet: [404],
    }),
  todo: (q: string, cursor: string | null) => http.get<CursorPage<TodoItem>>(`${base}/inbox/todo`, { q, cursor }),
  done: (q: string, cursor: string | null) => http.get<CursorPage<DoneItem>>(`${base}/inbox/done`, { q, cursor }),
  cc: (q: string, cursor: string | null) => http.get<CursorPage<CcItem>>(`${base}/inbox/cc`, { q, cursor }),
  ccRead: (id: number) => http.post<void>(`${base}/inbox/cc/${id}/read`, undefined, { quiet: true }),
  mine: (q: string, cursor: string | null, status = '') =>
    http.get<CursorPage<MineItem>>(`${base}/inbox/mine`, { q, cursor, status }),
  instance: (id: number) => http.get<InstanceDetail>(`${base}/instances/${id}`, undefined, { quiet: [404, 403] }),
  startInfo: (formCode: string) =>
    http.get<StartInfo>(`${base}/start-info`, { form_code: formCode }, { quiet: true }),
  start: (recordId: number, choices?: Record<string, string[]>) =>
    http.post<InstanceDetail>(`${base}/instances`, { record_id: recordId, choices }),
  act: (id: number, body: ActIn) => http.post<InstanceDetail>(`${base}/instances/${id}/act`, body, { quiet: true }),
  withdraw: (id: number, comment?: string) =>
    http.post<InstanceDetail>(`${base}/instances/${id}/withdraw`, { comment }, { quiet: true }),
  urge: (id: number) => http.post<InstanceDetail>(`${base}/instances/${id}/urge`, undefined, { quiet: true }),
  resubmit: (id: number, data: Record<string, unknown>, comment?: string) =>
    http.post<InstanceDetail>(`${base}/instances/${id}/resubmit`, { data, comment }, { quiet: [422] }),
  retry: (id: number) => http.post<InstanceDetail>(`${base}/instances/${id}/retry`),
  cancel: (id: number, comment?: string) => http.post<InstanceDetail>(`${base}/instances/${id}/cancel`, { comment }),
  batch: (taskIds: number[], action: 'approve' | 'reject', comment?: string) =>
    http.post<{ results: BatchResult[] }>(`${base}/tasks/batch`, { task_ids: taskIds, action, comment }),
  analytics: (query: { flow_key?: string; date_from?: string; date_to?: string }) =>
    http.get<Analytics>(`${base}/analytics`, query),
  definitions: () => http.get<DefinitionSummary[]>(`${base}/definitions`, undefined, { quiet: true }),
  /** The customer's applications the caller may see, newest first (customer 360 申请 tab). */
  customerApplications: (customerId: number, page: number, pageSize = 20) =>
    http.get<Page<CustomerApplication>>(`${base}/customers/${customerId}/applications`, { page, page_size: pageSize }),
}

/**
 * Approval-flow designer API (/api/v1/flows/definitions, permission flows.design).
 * Shapes follow docs/api-flows.md (Designer) and the definition JSON in docs/flow-engine.md.
 */
import { http } from './client'
import type { JsonLogic } from './forms'

export const FLOWS_DESIGN_PERM = 'flows.design'

export type NodeKind = 'start' | 'approval' | 'cc' | 'condition_group' | 'automated' | 'end'
export type ApprovalMode = 'any' | 'all' | 'sequential' | 'percent'
export type EmptyPolicy = 'auto_pass' | 'to_admin' | 'to_user'
export type TimeoutAction = 'none' | 'auto_approve' | 'auto_reject' | 'escalate'
export type NodeAction = 'approve' | 'reject' | 'return' | 'transfer' | 'add_signer' | 'comment'
export type RejectPolicy = 'end' | 'return_to_initiator'
export type FieldPermission = 'hidden' | 'read' | 'edit'
export type FailurePolicy = 'stop' | 'skip'
export type AutomatedAction =
  | 'risk_scorecard'
  | 'generate_contract'
  | 'send_message'
  | 'update_record'
  | 'webhook'
  | 'disburse'

export const APPROVAL_MODES: readonly ApprovalMode[] = ['any', 'all', 'sequential', 'percent']
export const EMPTY_POLICIES: readonly EmptyPolicy[] = ['auto_pass', 'to_admin', 'to_user']
export const TIMEOUT_ACTIONS: readonly TimeoutAction[] = ['none', 'auto_approve', 'auto_reject', 'escalate']
export const NODE_ACTIONS: readonly NodeAction[] = ['approve', 'reject', 'return', 'transfer', 'add_signer', 'comment']
export const REJECT_POLICIES: readonly RejectPolicy[] = ['end', 'return_to_initiator']
export const FIELD_PERMISSIONS: readonly FieldPermission[] = ['hidden', 'read', 'edit']
export const AUTOMATED_ACTIONS: readonly AutomatedAction[] = [
  'risk_scorecard',
  'generate_contract',
  'send_message',
  'update_record',
  'webhook',
  'disburse',
]

/** Who approves / receives a CC (resolved by the server's directory). */
export type AssigneeSpec =
  | { kind: 'user'; user_ids: string[] }
  | { kind: 'role'; role: string }
  | { kind: 'dept_head'; levels_up: number }
  | { kind: 'form_user_field'; field: string }
  | { kind: 'customer_owner'; field?: string }
  | { kind: 'initiator_choice'; multiple: boolean }
export type AssigneeKind = AssigneeSpec['kind']
export const ASSIGNEE_KINDS: readonly AssigneeKind[] = [
  'user',
  'role',
  'dept_head',
  'form_user_field',
  'customer_owner',
  'initiator_choice',
]

export interface Deadline {
  hours: number
  working_hours?: boolean
  reminder_before?: number | null
  on_timeout?: TimeoutAction
}

export interface Branch {
  id: string
  name: string
  condition?: JsonLogic | null
  default?: boolean
  nodes: FlowNode[]
  ui?: Record<string, unknown>
}

/** One node of the tree; which fields apply depends on `kind` (the server refuses others). */
export interface FlowNode {
  id: string
  kind: NodeKind
  name: string
  borrower_label?: string
  ui?: Record<string, unknown>
  // start / approval
  field_permissions?: Record<string, FieldPermission>
  // approval
  assignees?: AssigneeSpec[]
  mode?: ApprovalMode
  percent?: number
  on_empty?: EmptyPolicy
  on_empty_user_id?: string
  skip_initiator?: boolean
  skip_previous_approver?: boolean
  deadline?: Deadline | null
  actions?: NodeAction[]
  return_targets?: string[]
  on_reject?: RejectPolicy
  // cc
  recipients?: AssigneeSpec[]
  // condition_group
  branches?: Branch[]
  // automated
  action?: AutomatedAction | string
  params?: Record<string, unknown>
  on_failure?: FailurePolicy
  result_key?: string
  // end
  result?: 'approved' | 'rejected'
}

export interface FlowSettings {
  resubmit_from?: 'start' | 'returner'
  urge_interval_minutes?: number
}

export interface FlowDefinition {
  key: string
  name: string
  version?: number
  settings?: FlowSettings
  nodes: FlowNode[]
}

/** A validation problem; node_id is the node or branch to highlight (null: the whole flow). */
export interface FlowIssue {
  node_id: string | null
  code: string
  field: string | null
  params: Record<string, string>
  message: string
}

export interface UserBrief {
  id: number
  name?: string
  full_name?: string
  username?: string
}

export interface FlowSummary {
  key: string
  name: string
  description: string
  form_code: string
  form_name: string
  is_active: boolean
  published_version: number | null
  /** Same value as `draft_differs` (kept for older clients). */
  has_draft: boolean
  /** The draft is not what is published (never published, invalid, or changed since). */
  draft_differs?: boolean
  running_count: number
  updated_at: string
}

export interface FormFieldRef {
  key: string
  label: string
  label_en?: string | null
  type: string
  /** Holds user ids: usable as a 表单中的人员 (form_user_field) assignee. */
  is_user?: boolean
  options?: Array<{ value: string; label: string; label_en?: string }>
}

/** The field's label in the UI language (English label when English and the form has one). */
export function formFieldLabel(f: FormFieldRef, english: boolean): string {
  return (english && f.label_en) || f.label
}

export interface PublishedVersion {
  version: number
  definition: FlowDefinition
  published_at: string
  published_by: UserBrief | string | null
}

export interface VersionRow {
  version: number
  published_at: string
  published_by: UserBrief | string | null
  instance_count: number
}

export interface FlowDetail {
  key: string
  name: string
  description: string
  form_code: string
  form_name: string
  is_active: boolean
  draft: FlowDefinition | null
  draft_differs?: boolean
  draft_issues: FlowIssue[]
  published: PublishedVersion | null
  versions: VersionRow[]
  form_fields: FormFieldRef[]
  automated_actions: string[]
  roles: Array<{ code: string; name: string }>
  /** Every user the draft and published definitions name (assignees, on_empty_user_id). */
  users?: Array<{ id: number; name: string }>
}

export interface FlowCreate {
  key: string
  name: string
  form_code: string
  description?: string
}

const enc = encodeURIComponent
const base = '/flows/definitions'

export const flowDesignApi = {
  list: () => http.get<FlowSummary[]>(base),
  create: (body: FlowCreate) => http.post<FlowDetail>(base, body, { quiet: [422, 409] }),
  get: (key: string) => http.get<FlowDetail>(`${base}/${enc(key)}`),
  patch: (key: string, body: Partial<Pick<FlowDetail, 'name' | 'description' | 'is_active' | 'form_code'>>) =>
    http.patch<FlowDetail>(`${base}/${enc(key)}`, body),
  saveDraft: (key: string, definition: FlowDefinition) =>
    http.put<{ draft: FlowDefinition; issues: FlowIssue[]; draft_differs: boolean }>(`${base}/${enc(key)}/draft`, { definition }),
  validate: (key: string, definition: FlowDefinition) =>
    http.post<{ issues: FlowIssue[] }>(`${base}/${enc(key)}/validate`, { definition }),
  publish: (key: string) => http.post<{ version: number }>(`${base}/${enc(key)}/publish`, undefined, { quiet: [422] }),
  version: (key: string, n: number) => http.get<PublishedVersion>(`${base}/${enc(key)}/versions/${n}`),
}

/** Display name of a `published_by` value, whatever shape the server chose. */
export function userName(u: UserBrief | string | null | undefined): string {
  if (!u) return ''
  if (typeof u === 'string') return u
  return u.full_name || u.name || u.username || String(u.id)
}

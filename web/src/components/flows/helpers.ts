/**
 * Pure helpers of the 审批 screens: durations and waiting times in words, the timeline view model
 * built from an instance's `progress`, batch result summaries and the act payload of each action.
 */
import type {
  ActAction,
  ActIn,
  AttachmentRef,
  BatchResult,
  InstanceStatus,
  MyTask,
  Person,
  ProgressAct,
  ProgressItem,
  ProgressStatus,
} from '@/api/flows'
import type { CcItem, DoneItem, InboxTab, MineItem, TodoItem } from '@/api/flows'
import { t } from '@/i18n'
import { formatDateTime, formatMoney } from '@/utils/format'

// ---- durations ------------------------------------------------------------------------------------

/** Seconds → "2天3小时" / "3小时5分钟" / "5分钟" / "不到1分钟" (two units at most). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return ''
  const s = Math.max(0, Math.floor(seconds))
  const days = Math.floor(s / 86400)
  const hours = Math.floor((s % 86400) / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  if (days > 0) {
    return hours > 0 ? t('flows.duration.dh', { d: days, h: hours }) : t('flows.duration.d', { d: days })
  }
  if (hours > 0) {
    return minutes > 0 ? t('flows.duration.hm', { h: hours, m: minutes }) : t('flows.duration.h', { h: hours })
  }
  if (minutes > 0) return t('flows.duration.m', { m: minutes })
  return t('flows.duration.lessThanMinute')
}

/** Seconds between two instants (null when either is missing or invalid). */
export function secondsBetween(from: string | null | undefined, to: Date | string | null | undefined): number | null {
  if (!from || !to) return null
  const a = new Date(from).getTime()
  const b = (typeof to === 'string' ? new Date(to) : to).getTime()
  if (Number.isNaN(a) || Number.isNaN(b)) return null
  return Math.max(0, Math.floor((b - a) / 1000))
}

/** "已等待 3小时5分钟" for a task created at `createdAt`. */
export function waitingText(createdAt: string | null | undefined, now: Date = new Date()): string {
  const s = secondsBetween(createdAt, now)
  return s === null ? '' : t('flows.waiting', { d: formatDuration(s) })
}

/** Deadline in words: "剩余 2小时" or "已超时 1天3小时"; '' without a deadline. */
export function dueText(dueAt: string | null | undefined, now: Date = new Date()): { text: string; overdue: boolean } {
  if (!dueAt) return { text: '', overdue: false }
  const due = new Date(dueAt).getTime()
  if (Number.isNaN(due)) return { text: '', overdue: false }
  const diff = Math.floor((due - now.getTime()) / 1000)
  if (diff >= 0) return { text: t('flows.dueIn', { d: formatDuration(diff) }), overdue: false }
  return { text: t('flows.overdueBy', { d: formatDuration(-diff) }), overdue: true }
}

/** Hours from the analytics endpoint (number or decimal string) → "3.5" (one decimal, two below an hour); '—' for none. */
export function formatHours(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—'
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(n)) return String(value)
  if (n > 0 && n < 1) return n.toFixed(2) // minutes-long steps still read as more than nothing
  return (Math.round(n * 10) / 10).toFixed(1)
}

/** A rate as 0..1 or 0..100 (number or string) → "85.0%"; '—' for none. */
export function formatRate(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—'
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(n)) return String(value)
  const pct = n <= 1 ? n * 100 : n
  return `${(Math.round(pct * 10) / 10).toFixed(1)}%`
}

// ---- people and labels ----------------------------------------------------------------------------

/** A person as the API names them: {id, name}, or a bare id / name. "system" reads 系统. */
export function personName(p: Person | undefined, fallback = ''): string {
  if (p === null || p === undefined || p === '') return fallback
  if (typeof p === 'object') return p.name || (p.id !== undefined ? `#${String(p.id)}` : fallback)
  if (p === 'system') return t('flows.system')
  return String(p)
}

/** i18n label of a history / act action, the server's own label first. */
export function actionLabel(action: string, serverLabel?: string | null): string {
  if (serverLabel) return serverLabel
  const key = `flows.acts.${action}`
  const text = t(key)
  return text === key ? action : text
}

/** Vant tag type of an instance status. */
export function statusTagType(status: InstanceStatus | string): 'primary' | 'success' | 'danger' | 'warning' | 'default' {
  switch (status) {
    case 'running':
      return 'primary'
    case 'approved':
      return 'success'
    case 'rejected':
    case 'error':
      return 'danger'
    case 'returned':
      return 'warning'
    default:
      return 'default'
  }
}

/** A node's outcome in words ('' for unknown ones). */
export function outcomeLabel(outcome: string): string {
  const key = `flows.outcome.${outcome}`
  const text = t(key)
  return text === key ? '' : text
}

/** An instance status in the UI language (the server's label first). */
export function statusLabel(status: InstanceStatus | string, serverLabel?: string | null): string {
  if (serverLabel) return serverLabel
  const key = `flows.status.${status}`
  const text = t(key)
  return text === key ? status : text
}

// ---- timeline view model --------------------------------------------------------------------------

export interface TimelineAct {
  who: string
  action: string
  label: string
  at: string
  comment: string
  attachments: AttachmentRef[]
  signature: string | null
  duration: string
  target: string
  tone: 'ok' | 'bad' | 'warn' | 'info'
}

export interface TimelineEntry {
  key: string
  nodeId: string
  kind: string
  name: string
  status: ProgressStatus
  depth: number
  /** Shown as a branch row ("金额判断 → 其他情况") instead of a node. */
  isBranch: boolean
  branchText: string
  outcome: string | null
  outcomeLabel: string
  acts: TimelineAct[]
  waitingFor: string[]
  dueAt: string | null
  overdue: boolean
  duration: string
  enteredAt: string | null
  leftAt: string | null
}

const TONES: Record<string, TimelineAct['tone']> = {
  approved: 'ok',
  auto_approved: 'ok',
  auto_passed: 'ok',
  submitted: 'info',
  resubmitted: 'info',
  automated_done: 'ok',
  rejected: 'bad',
  auto_rejected: 'bad',
  automated_failed: 'bad',
  returned: 'warn',
  escalated: 'warn',
}

export function attachmentRefs(list: Array<string | AttachmentRef> | null | undefined): AttachmentRef[] {
  return (list ?? []).map((a) => (typeof a === 'string' ? { id: a } : a))
}

/** Acts whose target is worth naming (the person handed to, the step returned to). */
const TARGETED = new Set(['returned', 'transferred', 'add_signer_before', 'add_signer_after', 'escalated'])

function viewAct(a: ProgressAct): TimelineAct {
  return {
    who: a.actor_name || personName(a.actor, t('flows.system')),
    action: a.action,
    label: actionLabel(a.action, a.action_label),
    at: a.at,
    comment: a.comment ?? '',
    attachments: attachmentRefs(a.attachments),
    signature: a.signature ?? null,
    duration: a.duration_seconds === null || a.duration_seconds === undefined ? '' : formatDuration(a.duration_seconds),
    target: TARGETED.has(a.action) ? a.target_name || (a.target && !/^\d+$/.test(String(a.target)) ? personName(a.target) : '') : '',
    tone: TONES[a.action] ?? 'info',
  }
}

/**
 * The officer's timeline from `progress`: every node with its status, acts and durations;
 * condition groups become one branch row naming the chosen branch (or "待定" while not reached).
 * Names of branches come from `branchNames` (branch id → name) when the API gives them.
 */
export function buildTimeline(
  progress: ProgressItem[],
  options: { now?: Date; branchNames?: Record<string, string> } = {},
): TimelineEntry[] {
  const now = options.now ?? new Date()
  const names = options.branchNames ?? {}
  return progress.map((p, i) => {
    const isBranch = p.kind === 'condition_group'
    const chosen = p.chosen_branch
    let chosenName = p.chosen_branch_name ?? (chosen ? (names[chosen] ?? '') : '')
    if (isBranch && chosen && !chosenName) {
      // No branch names from the API: name the branch by the nodes it holds.
      const inner = progress.filter((q) => q.branch_id === chosen && q.depth === (p.depth ?? 0) + 1).map((q) => q.name)
      chosenName = inner.join(' → ')
    }
    const due = p.status === 'current' ? dueText(p.due_at, now) : { text: '', overdue: false }
    let duration = ''
    if (p.duration_seconds !== null && p.duration_seconds !== undefined) duration = formatDuration(p.duration_seconds)
    else if (p.status === 'current' && p.entered_at) duration = formatDuration(secondsBetween(p.entered_at, now))
    let branchText = ''
    if (isBranch) {
      if (chosen) branchText = chosenName ? t('flows.timeline.branchChosen', { name: chosenName }) : t('flows.timeline.branchEmpty')
      else branchText = t('flows.timeline.branchPending')
    }
    return {
      key: `${p.node_id}-${i}`,
      nodeId: p.node_id,
      kind: p.kind,
      name: p.name,
      status: p.status,
      depth: p.depth ?? 0,
      isBranch,
      branchText,
      outcome: p.outcome,
      outcomeLabel: p.outcome && !isBranch ? outcomeLabel(p.outcome) : '',
      acts: (p.acts ?? []).map(viewAct),
      waitingFor: p.status === 'current' ? (p.waiting_for ?? []).map((w) => personName(w)).filter(Boolean) : [],
      dueAt: p.status === 'current' ? p.due_at : null,
      overdue: due.overdue,
      duration,
      enteredAt: p.entered_at,
      leftAt: p.left_at,
    }
  })
}

// ---- batch ------------------------------------------------------------------------------------------

export interface BatchSummary {
  ok: number
  failed: number
  rows: Array<{ taskId: number; title: string; ok: boolean; message: string }>
}

/** Per-item results of POST /tasks/batch, with each task's title for the summary sheet. */
export function summarizeBatch(results: BatchResult[], titles: Record<number, string>): BatchSummary {
  const rows = results.map((r) => ({
    taskId: r.task_id,
    title: titles[r.task_id] ?? `#${r.task_id}`,
    ok: r.ok,
    message: r.ok ? '' : r.message || r.code || t('flows.batch.failedItem'),
  }))
  const ok = rows.filter((r) => r.ok).length
  return { ok, failed: rows.length - ok, rows }
}

// ---- act payloads -------------------------------------------------------------------------------------

export interface ActForm {
  comment: string
  attachments: Array<{ id: string }>
  signature: string | null
  target: string
  /** The approver's edits (editable fields only; unchanged ones are dropped). */
  data?: Record<string, unknown>
}

/** Actions that need a target (a user, or a return target). */
export const TARGET_ACTIONS: ReadonlySet<ActAction> = new Set(['return', 'transfer', 'add_signer_before', 'add_signer_after'])
/** Actions the comment is required for. */
export const COMMENT_REQUIRED: ReadonlySet<ActAction> = new Set(['reject', 'return', 'comment'])
/** Actions that may carry the approver's field edits (the engine refuses edits with the others). */
export const EDIT_ACTIONS: ReadonlySet<ActAction> = new Set(['approve', 'add_signer_after', 'comment'])

/** What is missing before the action can be sent ('' when ready). */
export function actProblem(action: ActAction, form: ActForm): string {
  if (TARGET_ACTIONS.has(action) && !form.target) {
    return action === 'return' ? t('flows.act.needReturnTarget') : t('flows.act.needUser')
  }
  if (COMMENT_REQUIRED.has(action) && !form.comment.trim()) return t('flows.act.needComment')
  return ''
}

/** The entries of `after` whose value differs from `before` (JSON-compared; '' equals null). */
export function diffValues(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(normalize(before[key])) !== JSON.stringify(normalize(value))) out[key] = value
  }
  return out
}

function normalize(v: unknown): unknown {
  if (v === '' || v === undefined) return null
  if (Array.isArray(v) && v.length === 0) return null
  return v
}

/** The POST /instances/{id}/act body for an action of my task. */
export function actPayload(action: ActAction, task: MyTask, form: ActForm, expectedVersion: number): ActIn {
  const body: ActIn = { task_id: task.id, action, expected_version: expectedVersion }
  const comment = form.comment.trim()
  if (comment) body.comment = comment
  if (form.attachments.length) body.attachments = form.attachments.map((a) => a.id)
  if (form.signature) body.signature = form.signature
  if (TARGET_ACTIONS.has(action) && form.target) body.target = form.target
  if (EDIT_ACTIONS.has(action) && form.data && Object.keys(form.data).length) body.data = form.data
  return body
}

// ---- inbox cards ------------------------------------------------------------------------------------

export interface InboxCardModel {
  key: string
  instanceId: number
  taskId: number | null
  ccId: number | null
  title: string
  flowName: string
  nodeName: string
  initiator: string
  amount: string
  time: string
  statusLabel: string
  statusType: ReturnType<typeof statusTagType> | ''
  overdue: boolean
  urged: boolean
  unread: boolean
  canBatch: boolean
}

function money(v: string | null | undefined): string {
  return v === null || v === undefined || v === '' ? '' : formatMoney(String(v))
}

function nodeName(n: MineItem['current_node']): string {
  if (!n) return ''
  return typeof n === 'string' ? n : n.name
}

/** One inbox row of any tab as the card shows it. */
export function inboxCard(tab: InboxTab, raw: TodoItem | DoneItem | CcItem | MineItem, now: Date = new Date()): InboxCardModel {
  const card: InboxCardModel = {
    key: '',
    instanceId: 0,
    taskId: null,
    ccId: null,
    title: raw.title,
    flowName: '',
    nodeName: '',
    initiator: '',
    amount: '',
    time: '',
    statusLabel: '',
    statusType: '',
    overdue: false,
    urged: false,
    unread: false,
    canBatch: false,
  }
  if (tab === 'todo') {
    const x = raw as TodoItem
    Object.assign(card, {
      key: `t${x.task_id}`,
      instanceId: x.instance_id,
      taskId: x.task_id,
      flowName: x.flow_name,
      nodeName: x.node_name,
      initiator: personName(x.initiator),
      amount: money(x.amount),
      time: waitingText(x.created_at, now),
      overdue: x.overdue || dueText(x.due_at, now).overdue,
      urged: !!x.urged_at,
      canBatch: x.can_batch,
    })
  } else if (tab === 'done') {
    const x = raw as DoneItem
    Object.assign(card, {
      key: `d${x.task_id}`,
      instanceId: x.instance_id,
      taskId: x.task_id,
      flowName: x.flow_name,
      nodeName: `${x.node_name} · ${actionLabel(x.action, x.action_label)}`,
      initiator: personName(x.initiator),
      amount: money(x.amount),
      time: t('flows.inbox.closedAt', { at: formatDateTime(x.closed_at) }),
      statusLabel: statusLabel(x.status, x.status_label),
      statusType: statusTagType(x.status),
    })
  } else if (tab === 'cc') {
    const x = raw as CcItem
    Object.assign(card, {
      key: `c${x.id}`,
      instanceId: x.instance_id,
      ccId: x.id,
      flowName: x.flow_name ?? '',
      nodeName: x.node_name,
      initiator: personName(x.initiator),
      amount: money(x.amount),
      time: formatDateTime(x.created_at),
      unread: !x.read,
    })
  } else {
    const x = raw as MineItem
    const waiting = Array.isArray(x.waiting_for)
      ? x.waiting_for.map((w) => personName(w)).filter(Boolean).join('、')
      : (x.waiting_for ?? '')
    const started = x.started_at ?? x.created_at
    Object.assign(card, {
      key: `m${x.instance_id ?? x.id}`,
      instanceId: x.instance_id ?? x.id ?? 0,
      flowName: x.flow_name,
      nodeName: [nodeName(x.current_node), waiting ? t('flows.inbox.waitingFor', { names: waiting }) : '']
        .filter(Boolean)
        .join(' · '),
      amount: money(x.amount),
      time: started ? t('flows.inbox.startedAt', { at: formatDateTime(started) }) : '',
      statusLabel: statusLabel(x.status, x.status_label),
      statusType: statusTagType(x.status),
    })
  }
  return card
}

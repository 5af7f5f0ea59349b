/**
 * Pure helpers over the flow definition tree (no Vue, no I/O): find, insert, delete, move and
 * update nodes and branches immutably (every helper returns new arrays along the changed path and
 * leaves the input untouched), id generation, readable summaries and client-side pre-checks that
 * mirror a few of the server's validation codes (docs/flow-engine.md).
 */
import type {
  AssigneeSpec,
  Branch,
  FlowDefinition,
  FlowIssue,
  FlowNode,
  FormFieldRef,
  NodeKind,
} from '@/api/flowDesign'
import { formFieldLabel } from '@/api/flowDesign'
import type { JsonLogic } from '@/api/forms'
import { logicToBuilder } from '@/components/forms/logic'

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/
/** Where a node list lives: `null` for the top level, else the id of the branch holding it. */
export type ListId = string | null

export interface NodeLocation {
  node: FlowNode
  /** The list holding the node (null: top level). */
  listId: ListId
  index: number
  /** The group and branch the list belongs to (both null at the top level). */
  groupId: string | null
  depth: number
}

// ---- walking and finding -------------------------------------------------------------------------

/** Visit every node (depth first, in order); `branch` is the branch holding the node, if any. */
export function walk(
  nodes: readonly FlowNode[],
  visit: (node: FlowNode, loc: { listId: ListId; index: number; groupId: string | null; depth: number }) => void,
  listId: ListId = null,
  groupId: string | null = null,
  depth = 0,
): void {
  nodes.forEach((node, index) => {
    visit(node, { listId, index, groupId, depth })
    for (const b of node.branches ?? []) walk(b.nodes ?? [], visit, b.id, node.id, depth + 1)
  })
}

export function allNodes(nodes: readonly FlowNode[]): FlowNode[] {
  const out: FlowNode[] = []
  walk(nodes, (n) => out.push(n))
  return out
}

/** Every id in the tree: nodes and branches share one namespace. */
export function collectIds(nodes: readonly FlowNode[]): Set<string> {
  const ids = new Set<string>()
  walk(nodes, (n) => {
    ids.add(n.id)
    for (const b of n.branches ?? []) ids.add(b.id)
  })
  return ids
}

export function findNode(nodes: readonly FlowNode[], id: string): NodeLocation | null {
  let found: NodeLocation | null = null
  walk(nodes, (node, loc) => {
    if (!found && node.id === id) found = { node, ...loc }
  })
  return found
}

export interface BranchLocation {
  branch: Branch
  group: FlowNode
  index: number
}

export function findBranch(nodes: readonly FlowNode[], id: string): BranchLocation | null {
  let found: BranchLocation | null = null
  walk(nodes, (node) => {
    if (found) return
    const i = (node.branches ?? []).findIndex((b) => b.id === id)
    if (i >= 0) found = { branch: node.branches![i]!, group: node, index: i }
  })
  return found
}

/** The node list with the given id (null: top level), or null when no such branch exists. */
export function listAt(nodes: readonly FlowNode[], listId: ListId): readonly FlowNode[] | null {
  if (listId === null) return nodes
  return findBranch(nodes, listId)?.branch.nodes ?? null
}

// ---- ids ---------------------------------------------------------------------------------------

/** A fresh id `${prefix}_${n}` matching [A-Za-z0-9_-]{1,64}, not among `taken`. */
export function newId(prefix: string, taken: ReadonlySet<string>): string {
  let base = prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 50) || 'node'
  if (!/^[A-Za-z0-9]/.test(base)) base = `n${base}`.slice(0, 50)
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`
    if (!taken.has(id)) return id
  }
}

// ---- immutable edits ---------------------------------------------------------------------------

/** Apply `fn` to the list `listId` (copy-on-write along the path). Unknown list: unchanged. */
export function mapList(
  nodes: readonly FlowNode[],
  listId: ListId,
  fn: (list: FlowNode[]) => FlowNode[],
): FlowNode[] {
  if (listId === null) return fn([...nodes])
  let changed = false
  const visit = (list: readonly FlowNode[]): FlowNode[] =>
    list.map((node) => {
      if (changed || !node.branches) return node
      const branches = node.branches.map((b) => {
        if (changed) return b
        if (b.id === listId) {
          changed = true
          return { ...b, nodes: fn([...(b.nodes ?? [])]) }
        }
        const inner = visit(b.nodes ?? [])
        return changed ? { ...b, nodes: inner } : b
      })
      return changed ? { ...node, branches } : node
    })
  const out = visit(nodes)
  return changed ? out : [...nodes]
}

/** Replace the node `id` by `fn(node)` (null removes it). */
export function mapNode(
  nodes: readonly FlowNode[],
  id: string,
  fn: (node: FlowNode) => FlowNode | null,
): FlowNode[] {
  const loc = findNode(nodes, id)
  if (!loc) return [...nodes]
  return mapList(nodes, loc.listId, (list) => {
    const next = fn(list[loc.index]!)
    if (next === null) list.splice(loc.index, 1)
    else list[loc.index] = next
    return list
  })
}

export function updateNode(nodes: readonly FlowNode[], id: string, patch: Partial<FlowNode>): FlowNode[] {
  return mapNode(nodes, id, (n) => {
    const next: FlowNode = { ...n, ...patch }
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as unknown as Record<string, unknown>)[k]
    return next
  })
}

export function insertNode(nodes: readonly FlowNode[], listId: ListId, index: number, node: FlowNode): FlowNode[] {
  return mapList(nodes, listId, (list) => {
    list.splice(Math.max(0, Math.min(index, list.length)), 0, node)
    return list
  })
}

/** Insert after the node `afterId`, in the same list. */
export function insertAfter(nodes: readonly FlowNode[], afterId: string, node: FlowNode): FlowNode[] {
  const loc = findNode(nodes, afterId)
  if (!loc) return [...nodes]
  return insertNode(nodes, loc.listId, loc.index + 1, node)
}

/** Remove a node (never the start node). */
export function removeNode(nodes: readonly FlowNode[], id: string): FlowNode[] {
  const loc = findNode(nodes, id)
  if (!loc || loc.node.kind === 'start') return [...nodes]
  return mapNode(nodes, id, () => null)
}

/** Whether `moveNode(nodes, id, delta)` would change anything. */
export function canMove(nodes: readonly FlowNode[], id: string, delta: number): boolean {
  const loc = findNode(nodes, id)
  if (!loc || loc.node.kind === 'start' || loc.node.kind === 'end') return false
  const list = listAt(nodes, loc.listId) ?? []
  const to = loc.index + delta
  if (to < 0 || to >= list.length) return false
  const other = list[to]!
  return other.kind !== 'start' && other.kind !== 'end'
}

/** Swap a node with its neighbour in the same list (start stays first, an end stays put). */
export function moveNode(nodes: readonly FlowNode[], id: string, delta: number): FlowNode[] {
  if (!canMove(nodes, id, delta)) return [...nodes]
  const loc = findNode(nodes, id)!
  return mapList(nodes, loc.listId, (list) => {
    const [n] = list.splice(loc.index, 1)
    list.splice(loc.index + delta, 0, n!)
    return list
  })
}

function mapGroup(nodes: readonly FlowNode[], groupId: string, fn: (branches: Branch[]) => Branch[]): FlowNode[] {
  return mapNode(nodes, groupId, (g) => (g.kind === 'condition_group' ? { ...g, branches: fn([...(g.branches ?? [])]) } : g))
}

/** Add a conditional branch just before the default branch (which stays last). */
export function addBranch(nodes: readonly FlowNode[], groupId: string, branch: Branch): FlowNode[] {
  return mapGroup(nodes, groupId, (branches) => {
    const d = branches.findIndex((b) => b.default)
    branches.splice(d < 0 ? branches.length : d, 0, branch)
    return branches
  })
}

export function updateBranch(nodes: readonly FlowNode[], branchId: string, patch: Partial<Branch>): FlowNode[] {
  const loc = findBranch(nodes, branchId)
  if (!loc) return [...nodes]
  return mapGroup(nodes, loc.group.id, (branches) => {
    const next: Branch = { ...branches[loc.index]!, ...patch }
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as unknown as Record<string, unknown>)[k]
    branches[loc.index] = next
    return branches
  })
}

/**
 * Remove a conditional branch. When it was the group's last conditional branch, the group goes
 * too and the default branch's nodes take its place (DingTalk behaviour). The default branch
 * itself cannot be removed.
 */
export function removeBranch(nodes: readonly FlowNode[], branchId: string): FlowNode[] {
  const loc = findBranch(nodes, branchId)
  if (!loc || loc.branch.default) return [...nodes]
  const rest = (loc.group.branches ?? []).filter((b) => b.id !== branchId)
  if (rest.some((b) => !b.default)) return mapGroup(nodes, loc.group.id, () => rest)
  const keep = rest.find((b) => b.default)?.nodes ?? []
  const g = findNode(nodes, loc.group.id)!
  return mapList(nodes, g.listId, (list) => {
    list.splice(g.index, 1, ...keep)
    return list
  })
}

export function canMoveBranch(nodes: readonly FlowNode[], branchId: string, delta: number): boolean {
  const loc = findBranch(nodes, branchId)
  if (!loc || loc.branch.default) return false
  const to = loc.index + delta
  const branches = loc.group.branches ?? []
  return to >= 0 && to < branches.length && !branches[to]!.default
}

/** Reorder conditional branches (evaluation order); the default branch stays last. */
export function moveBranch(nodes: readonly FlowNode[], branchId: string, delta: number): FlowNode[] {
  if (!canMoveBranch(nodes, branchId, delta)) return [...nodes]
  const loc = findBranch(nodes, branchId)!
  return mapGroup(nodes, loc.group.id, (branches) => {
    const [b] = branches.splice(loc.index, 1)
    branches.splice(loc.index + delta, 0, b!)
    return branches
  })
}

// ---- new nodes ---------------------------------------------------------------------------------

export type InsertKind = 'approval' | 'cc' | 'condition_group' | 'automated'
export const INSERT_KINDS: readonly InsertKind[] = ['approval', 'cc', 'condition_group', 'automated']

export interface NewNodeNames {
  node: string
  branch?: string
  defaultBranch?: string
}

/** A new node with sensible defaults and fresh ids (a group comes with one branch + default). */
export function makeNode(kind: InsertKind, taken: ReadonlySet<string>, names: NewNodeNames): FlowNode {
  const ids = new Set(taken)
  const id = newId(kind === 'condition_group' ? 'condition' : kind, ids)
  ids.add(id)
  if (kind === 'approval')
    return {
      id,
      kind,
      name: names.node,
      assignees: [],
      mode: 'any',
      actions: ['approve', 'reject', 'return', 'transfer', 'add_signer', 'comment'],
      return_targets: ['initiator'],
    }
  if (kind === 'cc') return { id, kind, name: names.node, recipients: [] }
  if (kind === 'automated') return { id, kind, name: names.node, action: 'send_message', params: {}, on_failure: 'stop' }
  const b1 = newId('branch', ids)
  ids.add(b1)
  const b2 = newId('branch', ids)
  return {
    id,
    kind,
    name: names.node,
    branches: [
      { id: b1, name: names.branch ?? '', condition: null, nodes: [] },
      { id: b2, name: names.defaultBranch ?? '', default: true, nodes: [] },
    ],
  }
}

export function makeBranch(taken: ReadonlySet<string>, name: string): Branch {
  return { id: newId('branch', taken), name, condition: null, nodes: [] }
}

// ---- issues ------------------------------------------------------------------------------------

/** Client-side pre-checks: a few of the server's codes, pointed at the node or branch. */
export function precheck(def: Pick<FlowDefinition, 'nodes'>): Array<Omit<FlowIssue, 'message'>> {
  const out: Array<Omit<FlowIssue, 'message'>> = []
  const issue = (node_id: string | null, code: string, field: string | null = null, params: Record<string, string> = {}) =>
    out.push({ node_id, code: `flow.def.${code}`, field, params })
  const nodes = def.nodes ?? []
  if (nodes.length === 0) issue(null, 'no_nodes', 'nodes')
  else if (nodes[0]!.kind !== 'start') issue(nodes[0]!.id, 'missing_start', 'nodes')
  if (nodes.length && !terminates(nodes)) issue(null, 'missing_end', 'nodes')
  const seen = new Set<string>()
  const checkId = (id: string) => {
    if (!ID_RE.test(id)) issue(id || null, 'bad_id', 'id', { id })
    else if (seen.has(id)) issue(id, 'duplicate_id', 'id')
    seen.add(id)
  }
  const list = (items: readonly FlowNode[]) => {
    let ended = false
    for (const n of items) {
      checkId(n.id)
      if (ended) issue(n.id, 'unreachable')
      if (n.kind === 'approval') {
        if (!(n.assignees ?? []).length && n.on_empty !== 'to_admin' && n.on_empty !== 'to_user')
          issue(n.id, 'no_assignee', 'assignees')
        if (n.on_empty === 'to_user' && !n.on_empty_user_id) issue(n.id, 'bad_user', 'on_empty_user_id')
        if (n.actions && !n.actions.includes('approve')) issue(n.id, 'approve_required', 'actions')
        if ((n.actions ?? ['return']).includes('return') && n.return_targets && n.return_targets.length === 0)
          issue(n.id, 'no_return_target', 'return_targets')
        const d = n.deadline
        if (d) {
          if (!(d.hours > 0)) issue(n.id, 'deadline_positive', 'deadline.hours')
          else if (d.reminder_before != null && !(d.reminder_before > 0)) issue(n.id, 'reminder_positive', 'deadline.reminder_before')
          else if (d.reminder_before != null && d.reminder_before >= d.hours)
            issue(n.id, 'reminder_not_before_deadline', 'deadline.reminder_before')
        }
      }
      if (n.kind === 'cc' && !(n.recipients ?? []).length) issue(n.id, 'no_recipients', 'recipients')
      if (n.kind === 'condition_group') {
        const branches = n.branches ?? []
        const defaults = branches.filter((b) => b.default).length
        if (defaults !== 1) issue(n.id, 'default_branch_count', 'branches', { count: String(defaults) })
        if (branches.length - defaults < 1) issue(n.id, 'no_conditional_branch', 'branches')
        for (const b of branches) {
          checkId(b.id)
          const c = b.condition
          if (!b.default && !(typeof c === 'boolean' || (c !== null && typeof c === 'object' && !Array.isArray(c))))
            issue(b.id, 'bad_condition', 'condition')
          list(b.nodes ?? [])
        }
      }
      if (terminates([n])) ended = true
    }
  }
  list(nodes)
  return out
}

/** Whether a node list always ends the flow (an end node, or a group whose every branch ends). */
export function terminates(nodes: readonly FlowNode[]): boolean {
  return nodes.some(
    (n) => n.kind === 'end' || (n.kind === 'condition_group' && (n.branches ?? []).length > 0 && n.branches!.every((b) => terminates(b.nodes ?? []))),
  )
}

/** Issues grouped by the node/branch they point at ('' for the whole flow). */
export function issuesByNode<T extends { node_id: string | null }>(issues: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>()
  for (const i of issues) {
    const k = i.node_id ?? ''
    map.set(k, [...(map.get(k) ?? []), i])
  }
  return map
}

/**
 * Return targets the approval node `id` may list: "initiator" and approval nodes that can come
 * before it on a route (earlier in its own list or an enclosing one, including inside earlier
 * groups) — never nodes on a sibling branch or after it.
 */
export function earlierApprovals(nodes: readonly FlowNode[], id: string): FlowNode[] {
  const path = pathTo(nodes, id)
  if (!path) return []
  const out: FlowNode[] = []
  const collect = (n: FlowNode): void => {
    if (n.kind === 'approval') out.push(n)
    for (const b of n.branches ?? []) for (const c of b.nodes ?? []) collect(c)
  }
  let list: readonly FlowNode[] = nodes
  for (let depth = 0; depth <= path.length; depth++) {
    const branchId = path[depth]
    let next: readonly FlowNode[] | null = null
    for (const n of list) {
      if (branchId === undefined && n.id === id) return out
      const b = branchId === undefined ? undefined : (n.branches ?? []).find((x) => x.id === branchId)
      if (b) {
        next = b.nodes ?? []
        break
      }
      collect(n)
    }
    if (!next) break
    list = next
  }
  return out
}

/** Ids of the branches enclosing `id`, outermost first (null when `id` is not in the tree). */
export function pathTo(nodes: readonly FlowNode[], id: string): string[] | null {
  const go = (list: readonly FlowNode[], acc: string[]): string[] | null => {
    for (const n of list) {
      if (n.id === id) return acc
      for (const b of n.branches ?? []) {
        const r = go(b.nodes ?? [], [...acc, b.id])
        if (r) return r
      }
    }
    return null
  }
  return go(nodes, [])
}

// ---- summaries ---------------------------------------------------------------------------------

export type Translate = (key: string, params?: Record<string, unknown>) => string

export interface SummaryContext {
  t: Translate
  roleName?: (code: string) => string
  fieldLabel?: (key: string) => string
  userName?: (id: string) => string
}

const P = 'flowDesigner'

export function specSummary(spec: AssigneeSpec, ctx: SummaryContext): string {
  const { t } = ctx
  switch (spec.kind) {
    case 'user': {
      const names = spec.user_ids.map((id) => ctx.userName?.(id) ?? id)
      return `${t(`${P}.spec.user`)}:${names.length ? names.join('、') : t(`${P}.summary.none`)}`
    }
    case 'role':
      return `${t(`${P}.spec.role`)}:${spec.role ? (ctx.roleName?.(spec.role) ?? spec.role) : t(`${P}.summary.none`)}`
    case 'dept_head':
      return spec.levels_up > 0 ? t(`${P}.spec.deptHeadUp`, { n: spec.levels_up }) : t(`${P}.spec.deptHead`)
    case 'form_user_field':
      return `${t(`${P}.spec.formUserField`)}:${spec.field ? (ctx.fieldLabel?.(spec.field) ?? spec.field) : t(`${P}.summary.none`)}`
    case 'customer_owner':
      return t(`${P}.spec.customerOwner`)
    case 'initiator_choice':
      return spec.multiple ? t(`${P}.spec.initiatorChoiceMany`) : t(`${P}.spec.initiatorChoiceOne`)
  }
}

function trimNum(n: number): string {
  return String(Number(n.toFixed(2)))
}

/** One line for a node card, e.g. "角色:风控专员 · 或签 · 16 工作小时". */
export function nodeSummary(node: FlowNode, ctx: SummaryContext): string {
  const { t } = ctx
  const parts: string[] = []
  if (node.kind === 'start') {
    return t(`${P}.summary.initiator`)
  }
  if (node.kind === 'approval') {
    const specs = node.assignees ?? []
    if (specs.length) parts.push(specs.map((s) => specSummary(s, ctx)).join('、'))
    else if (node.on_empty === 'to_admin') parts.push(t(`${P}.summary.toAdmin`))
    else if (node.on_empty === 'to_user') parts.push(t(`${P}.summary.toUser`))
    else parts.push(t(`${P}.summary.noAssignee`))
    const mode = node.mode ?? 'any'
    parts.push(mode === 'percent' ? t(`${P}.mode.percentN`, { n: node.percent ?? 100 }) : t(`${P}.mode.${mode}`))
    if (node.deadline && node.deadline.hours > 0)
      parts.push(
        t(node.deadline.working_hours ? `${P}.summary.workingHours` : `${P}.summary.hours`, {
          n: trimNum(node.deadline.hours),
        }),
      )
    return parts.join(' · ')
  }
  if (node.kind === 'cc') {
    const specs = node.recipients ?? []
    return specs.length ? specs.map((s) => specSummary(s, ctx)).join('、') : t(`${P}.summary.noRecipients`)
  }
  if (node.kind === 'automated') {
    parts.push(node.action ? t(`${P}.automated.${node.action}`) : t(`${P}.summary.none`))
    parts.push(t(`${P}.failure.${node.on_failure ?? 'stop'}`))
    if (node.result_key) parts.push(`→ ${node.result_key}`)
    return parts.join(' · ')
  }
  if (node.kind === 'condition_group') return t(`${P}.summary.branches`, { n: (node.branches ?? []).length })
  if (node.kind === 'end') return t(`${P}.result.${node.result ?? 'approved'}`)
  return ''
}

const OP_TEXT: Record<string, string> = { '==': '=', '!=': '≠', '>': '>', '>=': '≥', '<': '<', '<=': '≤' }

/** Readable text of a branch condition ("申请金额 > 500000"); falls back to compact JSON. */
export function conditionSummary(
  logic: JsonLogic | null | undefined,
  ctx: SummaryContext,
): string {
  const { t } = ctx
  if (logic === null || logic === undefined) return t(`${P}.branch.noCondition`)
  if (logic === true) return t(`${P}.branch.always`)
  if (logic === false) return t(`${P}.branch.never`)
  const model = logicToBuilder(logic)
  if (!model) return JSON.stringify(logic)
  const label = (k: string) => ctx.fieldLabel?.(k) ?? k
  const rule = (r: { field: string; op: string; value: string }): string => {
    if (r.op === 'empty') return `${label(r.field)} ${t(`${P}.op.empty`)}`
    if (r.op === 'not_empty') return `${label(r.field)} ${t(`${P}.op.notEmpty`)}`
    if (r.op === 'in') return `${label(r.field)} ${t(`${P}.op.in`)} ${r.value}`
    if (r.op === 'contains') return `${label(r.field)} ${t(`${P}.op.contains`)} ${r.value}`
    return `${label(r.field)} ${OP_TEXT[r.op] ?? r.op} ${r.value}`
  }
  const join = (mode: string) => ` ${t(`${P}.op.${mode === 'or' ? 'or' : 'and'}`)} `
  const groups = model.groups.map((g) => g.rules.map(rule).join(join(g.mode)))
  if (groups.length === 0) return t(`${P}.branch.noCondition`)
  return groups.length === 1 ? groups[0]! : groups.map((g) => `(${g})`).join(join(model.mode))
}

/** Deep copy through JSON (definitions are plain JSON). */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** Field permission options only make sense for these node kinds. */
export const KINDS_WITH_FIELD_PERMISSIONS: ReadonlySet<NodeKind> = new Set(['start', 'approval'])

export function fieldLabelFrom(fields: readonly FormFieldRef[], english = false): (key: string) => string {
  const map = new Map(fields.map((f) => [f.key, formFieldLabel(f, english)]))
  return (key) => map.get(key) ?? key
}

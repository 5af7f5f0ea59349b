import { describe, expect, it } from 'vitest'
import type { FlowNode } from '@/api/flowDesign'
import {
  addBranch,
  allNodes,
  canMove,
  canMoveBranch,
  collectIds,
  conditionSummary,
  earlierApprovals,
  findBranch,
  findNode,
  ID_RE,
  insertAfter,
  insertNode,
  issuesByNode,
  makeBranch,
  makeNode,
  moveBranch,
  moveNode,
  newId,
  nodeSummary,
  pathTo,
  precheck,
  removeBranch,
  removeNode,
  specSummary,
  terminates,
  updateBranch,
  updateNode,
  type SummaryContext,
} from '@/components/flowDesigner/tree'
import { i18n } from '@/i18n'

const ctx: SummaryContext = {
  t: (k, p) => (p ? i18n.global.t(k, p) : i18n.global.t(k)),
  roleName: (c) => ({ risk: '风控专员', gm: '总经理' })[c] ?? c,
  fieldLabel: (k) => ({ amount: '申请金额', product: '贷款产品' })[k] ?? k,
  userName: (id) => ({ '7': '张三', '9': '李四' })[id] ?? id,
}

/** start → a1 → group(g: b1 [a2, group(g2: c1 [a3] | c2 default [])] | b2 default [cc1]) → auto → end */
function sample(): FlowNode[] {
  return [
    { id: 'start', kind: 'start', name: '发起' },
    { id: 'a1', kind: 'approval', name: '初审', assignees: [{ kind: 'dept_head', levels_up: 0 }] },
    {
      id: 'g',
      kind: 'condition_group',
      name: '金额判断',
      branches: [
        {
          id: 'b1',
          name: '大额',
          condition: { '>': [{ var: 'amount' }, 500000] },
          nodes: [
            { id: 'a2', kind: 'approval', name: '终审', assignees: [{ kind: 'role', role: 'gm' }] },
            {
              id: 'g2',
              kind: 'condition_group',
              name: '内层',
              branches: [
                { id: 'c1', name: '经营贷', condition: { '==': [{ var: 'product' }, 'business'] }, nodes: [{ id: 'a3', kind: 'approval', name: '复核', assignees: [{ kind: 'role', role: 'risk' }] }] },
                { id: 'c2', name: '其他', default: true, nodes: [] },
              ],
            },
          ],
        },
        { id: 'b2', name: '其他', default: true, nodes: [{ id: 'cc1', kind: 'cc', name: '抄送', recipients: [{ kind: 'role', role: 'risk' }] }] },
      ],
    },
    { id: 'auto', kind: 'automated', name: '生成合同', action: 'generate_contract', params: {}, on_failure: 'stop' },
    { id: 'end', kind: 'end', name: '结束' },
  ]
}

describe('finding', () => {
  it('walks every node depth first and collects node and branch ids in one namespace', () => {
    const nodes = sample()
    expect(allNodes(nodes).map((n) => n.id)).toEqual(['start', 'a1', 'g', 'a2', 'g2', 'a3', 'cc1', 'auto', 'end'])
    expect([...collectIds(nodes)].sort()).toEqual(
      ['a1', 'a2', 'a3', 'auto', 'b1', 'b2', 'c1', 'c2', 'cc1', 'end', 'g', 'g2', 'start'].sort(),
    )
  })

  it('finds nested nodes with their list, index, group and depth', () => {
    const loc = findNode(sample(), 'a3')!
    expect(loc.node.name).toBe('复核')
    expect(loc).toMatchObject({ listId: 'c1', index: 0, groupId: 'g2', depth: 2 })
    expect(findNode(sample(), 'end')).toMatchObject({ listId: null, index: 4, groupId: null, depth: 0 })
    expect(findNode(sample(), 'nope')).toBeNull()
    expect(findBranch(sample(), 'c2')).toMatchObject({ index: 1, group: { id: 'g2' } })
    expect(pathTo(sample(), 'a3')).toEqual(['b1', 'c1'])
    expect(pathTo(sample(), 'auto')).toEqual([])
    expect(pathTo(sample(), 'nope')).toBeNull()
  })
})

describe('ids', () => {
  it('generates fresh ids matching the engine pattern', () => {
    const taken = new Set(['approval_1', 'approval_2'])
    expect(newId('approval', taken)).toBe('approval_3')
    expect(newId('审批 x', new Set())).toMatch(ID_RE)
    expect(newId('', new Set())).toMatch(ID_RE)
    expect(newId('x'.repeat(100), new Set())).toMatch(ID_RE)
  })

  it('gives new nodes and branches ids unique across the whole tree', () => {
    const nodes = sample()
    const group = makeNode('condition_group', collectIds(nodes), { node: '条件', branch: '条件 1', defaultBranch: '其他' })
    const ids = [group.id, ...(group.branches ?? []).map((b) => b.id)]
    expect(new Set(ids).size).toBe(3)
    for (const id of ids) {
      expect(id).toMatch(ID_RE)
      expect(collectIds(nodes).has(id)).toBe(false)
    }
    expect(group.branches!.map((b) => !!b.default)).toEqual([false, true])
    const b = makeBranch(collectIds(insertAfter(nodes, 'a1', group)), '条件 2')
    expect(ids).not.toContain(b.id)
  })

  it('creates approval, cc and automated nodes with engine-valid defaults', () => {
    const a = makeNode('approval', new Set(), { node: '审批人' })
    expect(a).toMatchObject({ kind: 'approval', mode: 'any', assignees: [], return_targets: ['initiator'] })
    expect(a.actions).toContain('approve')
    expect(makeNode('cc', new Set(), { node: '抄送人' })).toMatchObject({ kind: 'cc', recipients: [] })
    expect(makeNode('automated', new Set(), { node: '自动' })).toMatchObject({ kind: 'automated', on_failure: 'stop', params: {} })
  })
})

describe('immutable edits', () => {
  it('inserts into the top level and into an empty branch without touching the input', () => {
    const nodes = sample()
    const before = JSON.stringify(nodes)
    const n: FlowNode = { id: 'x', kind: 'cc', name: 'x', recipients: [] }
    const top = insertNode(nodes, null, 1, n)
    expect(top.map((m) => m.id)).toEqual(['start', 'x', 'a1', 'g', 'auto', 'end'])
    const nested = insertNode(nodes, 'c2', 0, n)
    expect(findNode(nested, 'x')).toMatchObject({ listId: 'c2', index: 0, depth: 2 })
    expect(JSON.stringify(nodes)).toBe(before)
    // Untouched subtrees are shared, changed paths are copies.
    expect(nested[1]).toBe(nodes[1])
    expect(nested[2]).not.toBe(nodes[2])
    expect(insertAfter(nodes, 'a2', n).length).toBe(nodes.length)
    expect(findNode(insertAfter(nodes, 'a2', n), 'x')).toMatchObject({ listId: 'b1', index: 1 })
    expect(insertNode(nodes, 'unknown-branch', 0, n)).toEqual(nodes)
  })

  it('updates a nested node and drops keys patched to undefined', () => {
    const nodes = sample()
    const next = updateNode(nodes, 'a3', { name: '复核2', mode: 'percent', percent: 60 })
    expect(findNode(next, 'a3')!.node).toMatchObject({ name: '复核2', mode: 'percent', percent: 60 })
    const back = updateNode(next, 'a3', { mode: 'any', percent: undefined })
    expect('percent' in findNode(back, 'a3')!.node).toBe(false)
    expect(findNode(nodes, 'a3')!.node.name).toBe('复核')
  })

  it('removes nodes, never the start node', () => {
    const nodes = sample()
    expect(allNodes(removeNode(nodes, 'a3')).map((n) => n.id)).not.toContain('a3')
    expect(removeNode(nodes, 'g').map((n) => n.id)).toEqual(['start', 'a1', 'auto', 'end'])
    expect(removeNode(nodes, 'start')).toEqual(nodes)
    expect(findNode(nodes, 'a3')).not.toBeNull()
  })

  it('moves nodes within their list but keeps start first and ends in place', () => {
    const nodes = sample()
    expect(moveNode(nodes, 'auto', -1).map((n) => n.id)).toEqual(['start', 'a1', 'auto', 'g', 'end'])
    expect(canMove(nodes, 'a1', -1)).toBe(false) // would pass the start
    expect(canMove(nodes, 'auto', 1)).toBe(false) // would pass the end
    expect(canMove(nodes, 'start', 1)).toBe(false)
    expect(canMove(nodes, 'a2', 1)).toBe(true)
    const nested = moveNode(nodes, 'a2', 1)
    expect(findBranch(nested, 'b1')!.branch.nodes.map((n) => n.id)).toEqual(['g2', 'a2'])
    expect(moveNode(nodes, 'a1', -1)).toEqual(nodes)
  })

  it('adds branches before the default one and reorders only conditional branches', () => {
    const nodes = sample()
    const b = makeBranch(collectIds(nodes), '中额')
    const added = addBranch(nodes, 'g', b)
    expect(findNode(added, 'g')!.node.branches!.map((x) => x.id)).toEqual(['b1', b.id, 'b2'])
    expect(canMoveBranch(added, b.id, 1)).toBe(false) // the default stays last
    expect(canMoveBranch(added, 'b2', -1)).toBe(false) // the default never moves
    expect(canMoveBranch(added, b.id, -1)).toBe(true)
    const moved = moveBranch(added, b.id, -1)
    expect(findNode(moved, 'g')!.node.branches!.map((x) => x.id)).toEqual([b.id, 'b1', 'b2'])
    const renamed = updateBranch(moved, 'b1', { name: '超大额', condition: { '>': [{ var: 'amount' }, 1000000] } })
    expect(findBranch(renamed, 'b1')!.branch.name).toBe('超大额')
  })

  it('removes a branch, and the whole group with the last conditional branch (default nodes stay)', () => {
    const nodes = sample()
    const b = makeBranch(collectIds(nodes), '中额')
    const two = addBranch(nodes, 'g', b)
    expect(findNode(removeBranch(two, b.id), 'g')!.node.branches!.map((x) => x.id)).toEqual(['b1', 'b2'])
    const gone = removeBranch(nodes, 'b1')
    expect(gone.map((n) => n.id)).toEqual(['start', 'a1', 'cc1', 'auto', 'end'])
    expect(removeBranch(nodes, 'b2')).toEqual(nodes) // the default branch cannot go
  })
})

describe('precheck', () => {
  it('finds nothing wrong in a sound tree', () => {
    expect(precheck({ nodes: sample() })).toEqual([])
  })

  it('points a node without assignees at that node, unless someone else takes over', () => {
    const nodes = updateNode(sample(), 'a3', { assignees: [] })
    expect(precheck({ nodes })).toEqual([{ node_id: 'a3', code: 'flow.def.no_assignee', field: 'assignees', params: {} }])
    expect(precheck({ nodes: updateNode(nodes, 'a3', { on_empty: 'to_admin' }) })).toEqual([])
    expect(precheck({ nodes: updateNode(nodes, 'a3', { on_empty: 'to_user' }) }).map((i) => i.code)).toEqual([
      'flow.def.bad_user',
    ])
  })

  it('requires exactly one default branch and one conditional branch per group', () => {
    const noDefault = updateBranch(sample(), 'b2', { default: undefined, condition: true })
    expect(precheck({ nodes: noDefault })).toContainEqual({
      node_id: 'g',
      code: 'flow.def.default_branch_count',
      field: 'branches',
      params: { count: '0' },
    })
    const onlyDefault = updateNode(sample(), 'g2', { branches: [{ id: 'c2', name: '其他', default: true, nodes: [] }] })
    expect(precheck({ nodes: onlyDefault }).map((i) => [i.node_id, i.code])).toEqual([
      ['g2', 'flow.def.no_conditional_branch'],
    ])
  })

  it('flags branches without a condition, empty CC, unreachable nodes and a missing end', () => {
    let nodes = updateBranch(sample(), 'c1', { condition: null })
    nodes = updateNode(nodes, 'cc1', { recipients: [] })
    nodes = insertNode(nodes, null, 5, { id: 'late', kind: 'cc', name: '迟到', recipients: [{ kind: 'role', role: 'risk' }] })
    expect(precheck({ nodes }).map((i) => [i.node_id, i.code])).toEqual([
      ['c1', 'flow.def.bad_condition'],
      ['cc1', 'flow.def.no_recipients'],
      ['late', 'flow.def.unreachable'],
    ])
    expect(precheck({ nodes: removeNode(sample(), 'end') }).map((i) => i.code)).toEqual(['flow.def.missing_end'])
  })

  it('knows when every branch of a group ends the flow', () => {
    const ends: FlowNode = {
      id: 'gx',
      kind: 'condition_group',
      name: 'x',
      branches: [
        { id: 'x1', name: 'a', condition: true, nodes: [{ id: 'e1', kind: 'end', name: 'e', result: 'rejected' }] },
        { id: 'x2', name: 'b', default: true, nodes: [{ id: 'e2', kind: 'end', name: 'e' }] },
      ],
    }
    expect(terminates([ends])).toBe(true)
    const nodes = insertNode(sample(), null, 4, ends)
    expect(precheck({ nodes }).map((i) => [i.node_id, i.code])).toEqual([['end', 'flow.def.unreachable']])
  })

  it('flags duplicate and malformed ids and deadline problems', () => {
    let nodes = updateNode(sample(), 'a2', { id: 'a1' })
    expect(precheck({ nodes })).toContainEqual({ node_id: 'a1', code: 'flow.def.duplicate_id', field: 'id', params: {} })
    nodes = updateNode(sample(), 'a1', { deadline: { hours: 4, reminder_before: 4 } })
    expect(precheck({ nodes }).map((i) => i.code)).toEqual(['flow.def.reminder_not_before_deadline'])
    nodes = updateNode(sample(), 'a1', { deadline: { hours: 0 } })
    expect(precheck({ nodes }).map((i) => i.code)).toEqual(['flow.def.deadline_positive'])
    nodes = updateNode(sample(), 'a1', { id: 'bad:id' })
    expect(precheck({ nodes }).map((i) => i.code)).toEqual(['flow.def.bad_id'])
  })

  it('groups issues by node, with flow-level ones under ""', () => {
    const map = issuesByNode([
      { node_id: 'a', code: '1' },
      { node_id: null, code: '2' },
      { node_id: 'a', code: '3' },
    ])
    expect(map.get('a')!.map((i) => i.code)).toEqual(['1', '3'])
    expect(map.get('')!.map((i) => i.code)).toEqual(['2'])
  })
})

describe('return targets', () => {
  it('lists approvals that can precede the node, never ones on a sibling branch or after it', () => {
    const nodes = sample()
    expect(earlierApprovals(nodes, 'a1').map((n) => n.id)).toEqual([])
    expect(earlierApprovals(nodes, 'a3').map((n) => n.id)).toEqual(['a1', 'a2'])
    expect(earlierApprovals(nodes, 'cc1').map((n) => n.id)).toEqual(['a1'])
    const withLast = insertNode(nodes, null, 4, { id: 'a9', kind: 'approval', name: '放款', assignees: [] })
    expect(earlierApprovals(withLast, 'a9').map((n) => n.id)).toEqual(['a1', 'a2', 'a3'])
    expect(earlierApprovals(nodes, 'missing')).toEqual([])
  })
})

describe('summaries', () => {
  it('summarises an approval node the way the card shows it', () => {
    const n: FlowNode = {
      id: 'r',
      kind: 'approval',
      name: '风控审核',
      assignees: [{ kind: 'role', role: 'risk' }],
      mode: 'any',
      deadline: { hours: 16, working_hours: true },
    }
    expect(nodeSummary(n, ctx)).toBe('角色:风控专员 · 或签 · 16 工作小时')
    expect(nodeSummary({ ...n, mode: 'percent', percent: 60, deadline: { hours: 2.5 } }, ctx)).toBe(
      '角色:风控专员 · 60% 通过 · 2.5 小时',
    )
    expect(nodeSummary({ ...n, assignees: [], deadline: null }, ctx)).toBe('请设置审批人 · 或签')
    expect(nodeSummary({ ...n, assignees: [], on_empty: 'to_admin', mode: 'all', deadline: null }, ctx)).toBe(
      '审批人为空时转交管理员 · 会签',
    )
  })

  it('summarises every assignee kind', () => {
    expect(specSummary({ kind: 'user', user_ids: ['7', '9'] }, ctx)).toBe('指定成员:张三、李四')
    expect(specSummary({ kind: 'dept_head', levels_up: 0 }, ctx)).toBe('发起人的直属主管')
    expect(specSummary({ kind: 'dept_head', levels_up: 2 }, ctx)).toBe('发起人的第 2 级上级主管')
    expect(specSummary({ kind: 'form_user_field', field: 'amount' }, ctx)).toBe('表单中的人员:申请金额')
    expect(specSummary({ kind: 'customer_owner' }, ctx)).toBe('客户的客户经理')
    expect(specSummary({ kind: 'initiator_choice', multiple: false }, ctx)).toBe('发起人自选(单人)')
  })

  it('summarises CC, automated, group and end nodes', () => {
    const nodes = sample()
    expect(nodeSummary(findNode(nodes, 'cc1')!.node, ctx)).toBe('角色:风控专员')
    expect(nodeSummary(findNode(nodes, 'auto')!.node, ctx)).toBe('生成合同 · 失败时停止')
    expect(nodeSummary(findNode(nodes, 'g')!.node, ctx)).toBe('2 个分支')
    expect(nodeSummary(findNode(nodes, 'end')!.node, ctx)).toBe('审批通过')
  })

  it('reads branch conditions in words, nested groups included', () => {
    expect(conditionSummary({ '>': [{ var: 'amount' }, 500000] }, ctx)).toBe('申请金额 > 500000')
    expect(
      conditionSummary(
        { or: [{ and: [{ '>=': [{ var: 'amount' }, 1] }, { '==': [{ var: 'product' }, 'car'] }] }, { '!': { var: 'product' } }] },
        ctx,
      ),
    ).toBe('(申请金额 ≥ 1 且 贷款产品 = car) 或 (贷款产品 为空)')
    expect(conditionSummary(null, ctx)).toBe('请设置条件')
    expect(conditionSummary(true, ctx)).toBe('始终满足')
  })
})

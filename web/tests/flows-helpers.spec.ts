import { beforeEach, describe, expect, it } from 'vitest'
import type { MyTask, ProgressItem } from '@/api/flows'
import {
  actPayload,
  actProblem,
  buildTimeline,
  diffValues,
  dueText,
  formatDuration,
  formatHours,
  formatRate,
  inboxCard,
  personName,
  summarizeBatch,
  waitingText,
} from '@/components/flows/helpers'
import { badgeText } from '@/components/flows/inboxCounts'
import { setLocale } from '@/i18n'

beforeEach(() => setLocale('zh-CN', { persist: false }))

describe('durations', () => {
  it('words with at most two units', () => {
    expect(formatDuration(0)).toBe('不到1分钟')
    expect(formatDuration(59)).toBe('不到1分钟')
    expect(formatDuration(60)).toBe('1分钟')
    expect(formatDuration(3600)).toBe('1小时')
    expect(formatDuration(3 * 3600 + 5 * 60 + 9)).toBe('3小时5分钟')
    expect(formatDuration(86400)).toBe('1天')
    expect(formatDuration(2 * 86400 + 3 * 3600 + 59 * 60)).toBe('2天3小时')
    expect(formatDuration(null)).toBe('')
    expect(formatDuration(-5)).toBe('不到1分钟')
  })

  it('English too', () => {
    setLocale('en-US', { persist: false })
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3 h 5 min')
    expect(formatDuration(86400 + 3600)).toBe('1 d 1 h')
  })

  it('waiting time and deadlines against a given now', () => {
    const now = new Date('2026-11-28T10:00:00Z')
    expect(waitingText('2026-11-28T07:30:00Z', now)).toBe('已等待 2小时30分钟')
    expect(waitingText(null, now)).toBe('')
    expect(dueText('2026-11-28T12:00:00Z', now)).toEqual({ text: '剩余 2小时', overdue: false })
    expect(dueText('2026-11-27T09:00:00Z', now)).toEqual({ text: '已超时 1天1小时', overdue: true })
    expect(dueText(null, now)).toEqual({ text: '', overdue: false })
  })

  it('hours and rates from the analytics endpoint', () => {
    expect(formatHours(3.456)).toBe('3.5')
    expect(formatHours('12')).toBe('12.0')
    expect(formatHours(0.25)).toBe('0.25')
    expect(formatHours(0)).toBe('0.0')
    expect(formatHours(null)).toBe('—')
    expect(formatRate(0.8512)).toBe('85.1%')
    expect(formatRate('85.12')).toBe('85.1%')
    expect(formatRate(null)).toBe('—')
  })

  it('badge text', () => {
    expect(badgeText(0)).toBeUndefined()
    expect(badgeText(undefined)).toBeUndefined()
    expect(badgeText(7)).toBe('7')
    expect(badgeText(120)).toBe('99+')
  })
})

describe('people', () => {
  it('names from refs, ids and the system actor', () => {
    expect(personName({ id: 3, name: '李经理' })).toBe('李经理')
    expect(personName('system')).toBe('系统')
    expect(personName(null, '—')).toBe('—')
    expect(personName(7)).toBe('7')
  })
})

const base = {
  depth: 0,
  branch_id: null,
  outcome: null,
  chosen_branch: null,
  entered_at: null,
  left_at: null,
  duration_seconds: null,
  waiting_for: [],
  due_at: null,
  acts: [],
}
const PROGRESS: ProgressItem[] = [
  {
    ...base,
    node_id: 'start',
    kind: 'start',
    name: '客户经理提交',
    status: 'done',
    entered_at: '2026-11-28T01:00:00Z',
    left_at: '2026-11-28T01:00:00Z',
    duration_seconds: 0,
    acts: [{ actor: '6', actor_name: '王小明', action: 'submitted', action_label: '提交', at: '2026-11-28T01:00:00Z', comment: null, attachments: [], signature: null, duration_seconds: null }],
  },
  {
    ...base,
    node_id: 'manager_review',
    kind: 'approval',
    name: '业务经理初审',
    status: 'done',
    outcome: 'approved',
    entered_at: '2026-11-28T01:00:00Z',
    left_at: '2026-11-28T04:30:00Z',
    duration_seconds: 3.5 * 3600,
    acts: [
      {
        actor: '3',
        actor_name: '李经理',
        action: 'approved',
        action_label: '同意',
        at: '2026-11-28T04:30:00Z',
        comment: '资质良好',
        attachments: ['up1'],
        signature: 'data:image/png;base64,AAA',
        duration_seconds: 3.5 * 3600,
      },
    ],
  },
  {
    ...base,
    node_id: 'risk_review',
    kind: 'approval',
    name: '风控审核',
    status: 'current',
    entered_at: '2026-11-28T05:00:00Z',
    waiting_for: [{ id: 4, name: '孙风控' }],
    due_at: '2026-11-28T06:00:00Z',
  },
  { ...base, node_id: 'amount_check', kind: 'condition_group', name: '金额判断', status: 'pending' },
  { ...base, node_id: 'gm_review', kind: 'approval', name: '总经理终审', status: 'skipped', depth: 1, branch_id: 'large_amount' },
  { ...base, node_id: 'end', kind: 'end', name: '结束', status: 'pending' },
]

describe('timeline view model', () => {
  const now = new Date('2026-11-28T07:00:00Z')

  it('keeps node order and statuses; acts with who, label, comment, attachments, signature, duration', () => {
    const tl = buildTimeline(PROGRESS, { now })
    expect(tl.map((e) => [e.nodeId, e.status])).toEqual([
      ['start', 'done'],
      ['manager_review', 'done'],
      ['risk_review', 'current'],
      ['amount_check', 'pending'],
      ['gm_review', 'skipped'],
      ['end', 'pending'],
    ])
    const mr = tl[1]!
    expect(mr.outcomeLabel).toBe('已通过')
    expect(mr.duration).toBe('3小时30分钟')
    expect(mr.acts).toEqual([
      expect.objectContaining({
        who: '李经理',
        label: '同意',
        comment: '资质良好',
        attachments: [{ id: 'up1' }],
        signature: 'data:image/png;base64,AAA',
        duration: '3小时30分钟',
        tone: 'ok',
      }),
    ])
  })

  it('the current node: who is waited for, time waited so far and overdue deadline', () => {
    const cur = buildTimeline(PROGRESS, { now })[2]!
    expect(cur.waitingFor).toEqual(['孙风控'])
    expect(cur.duration).toBe('2小时')
    expect(cur.overdue).toBe(true)
    expect(cur.dueAt).toBe('2026-11-28T06:00:00Z')
  })

  it('branch rows: pending, chosen by name, chosen by the nodes inside, empty branch', () => {
    expect(buildTimeline(PROGRESS, { now })[3]!.branchText).toBe('到达时按条件选择分支')
    const chosen = PROGRESS.map((p) => (p.node_id === 'amount_check' ? { ...p, status: 'done' as const, chosen_branch: 'large_amount' } : p))
    expect(buildTimeline(chosen, { now })[3]!.branchText).toBe('走分支：总经理终审')
    expect(buildTimeline(chosen, { now, branchNames: { large_amount: '金额 > 500,000' } })[3]!.branchText).toBe('走分支：金额 > 500,000')
    const other = PROGRESS.map((p) => (p.node_id === 'amount_check' ? { ...p, status: 'done' as const, chosen_branch: 'normal_amount' } : p))
    expect(buildTimeline(other, { now })[3]!.branchText).toBe('条件分支无需审批，直接继续')
  })

  it('acts without names fall back to the raw actor; system reads 系统', () => {
    const p: ProgressItem[] = [
      { ...base, node_id: 'x', kind: 'automated', name: '风险评分卡', status: 'done', acts: [{ actor: 'system', action: 'automated_done', at: '2026-11-28T01:00:00Z' }] },
    ]
    expect(buildTimeline(p)[0]!.acts[0]).toEqual(expect.objectContaining({ who: '系统', label: '执行完成' }))
  })
})

describe('batch summary', () => {
  it('counts and per-item rows with titles and messages', () => {
    const s = summarizeBatch(
      [
        { task_id: 1, ok: true },
        { task_id: 2, ok: false, code: 'flow.task_closed', message: '任务已处理' },
        { task_id: 9, ok: false, code: 'flow.not_your_task' },
      ],
      { 1: '张伟 · ¥200,000.00', 2: '李雷 · ¥50,000.00' },
    )
    expect(s.ok).toBe(1)
    expect(s.failed).toBe(2)
    expect(s.rows).toEqual([
      { taskId: 1, title: '张伟 · ¥200,000.00', ok: true, message: '' },
      { taskId: 2, title: '李雷 · ¥50,000.00', ok: false, message: '任务已处理' },
      { taskId: 9, title: '#9', ok: false, message: 'flow.not_your_task' },
    ])
  })
})

describe('act payloads', () => {
  const task: MyTask = {
    id: 91,
    engine_task_id: 'risk_review:1:0',
    node_id: 'risk_review',
    node_name: '风控审核',
    actions: ['approve', 'reject', 'return', 'transfer', 'add_signer_before', 'add_signer_after', 'comment'],
    return_options: [{ id: 'initiator', name: '发起人' }],
    editable_fields: ['amount'],
    due_at: null,
  }
  const form = { comment: ' 同意 ', attachments: [{ id: 'u1' }], signature: 'data:image/png;base64,A', target: '', data: { amount: '100000' } }

  it('approve carries comment, attachments, signature, edits and the expected version', () => {
    expect(actPayload('approve', task, form, 7)).toEqual({
      task_id: 91,
      action: 'approve',
      expected_version: 7,
      comment: '同意',
      attachments: ['u1'],
      signature: 'data:image/png;base64,A',
      data: { amount: '100000' },
    })
  })

  it('reject and return never send edits; return and transfer send the target', () => {
    expect(actPayload('reject', task, form, 7).data).toBeUndefined()
    expect(actPayload('return', task, { ...form, target: 'initiator' }, 7)).toEqual(
      expect.objectContaining({ action: 'return', target: 'initiator' }),
    )
    expect(actPayload('return', task, form, 7).data).toBeUndefined()
    expect(actPayload('transfer', task, { ...form, target: '12' }, 3)).toEqual(expect.objectContaining({ target: '12', expected_version: 3 }))
    expect(actPayload('add_signer_after', task, { ...form, target: '12' }, 3).data).toEqual({ amount: '100000' })
    expect(actPayload('approve', task, { comment: '', attachments: [], signature: null, target: 'x' }, 1)).toEqual({
      task_id: 91,
      action: 'approve',
      expected_version: 1,
    })
  })

  it('says what is missing', () => {
    const empty = { comment: '', attachments: [], signature: null, target: '' }
    expect(actProblem('approve', empty)).toBe('')
    expect(actProblem('reject', empty)).toBe('请填写审批意见')
    expect(actProblem('return', empty)).toBe('请选择退回节点')
    expect(actProblem('return', { ...empty, target: 'initiator' })).toBe('请填写审批意见')
    expect(actProblem('transfer', empty)).toBe('请选择人员')
    expect(actProblem('add_signer_before', { ...empty, target: '5' })).toBe('')
  })

  it('only changed values are edits', () => {
    expect(diffValues({ amount: '120000', term: '12', note: null }, { amount: '100000', term: '12', note: '' })).toEqual({ amount: '100000' })
    expect(diffValues({ files: [] }, { files: [] })).toEqual({})
  })
})

describe('inbox cards', () => {
  const now = new Date('2026-11-28T10:00:00Z')
  it('todo: amount in yuan, waiting time, overdue and urged tags, batchable', () => {
    const c = inboxCard(
      'todo',
      {
        task_id: 5,
        instance_id: 12,
        title: '张伟 · 个人消费贷',
        flow_name: '贷款审批',
        node_name: '风控审核',
        initiator: { id: 6, name: '王小明' },
        amount: '200000.00',
        created_at: '2026-11-28T07:00:00Z',
        due_at: '2026-11-28T09:00:00Z',
        overdue: false,
        urged_at: '2026-11-28T08:00:00Z',
        can_batch: true,
      },
      now,
    )
    expect(c).toEqual(
      expect.objectContaining({
        instanceId: 12,
        taskId: 5,
        initiator: '王小明',
        amount: '¥200,000.00',
        time: '已等待 3小时',
        overdue: true,
        urged: true,
        canBatch: true,
      }),
    )
  })

  it('mine: status tag and who it waits for', () => {
    const c = inboxCard('mine', {
      instance_id: 3,
      title: 'x',
      flow_name: '贷款审批',
      status: 'approved',
      status_label: '已通过',
      current_node: { id: 'risk_review', name: '风控审核' },
      waiting_for: [{ id: 4, name: '孙风控' }],
      amount: null,
      started_at: '2026-11-28T07:00:00Z',
    })
    expect(c.statusLabel).toBe('已通过')
    expect(c.statusType).toBe('success')
    expect(c.nodeName).toBe('风控审核 · 等待 孙风控')
    expect(c.amount).toBe('')
  })

  it('cc: unread flag; done: the action taken', () => {
    expect(inboxCard('cc', { id: 8, instance_id: 3, title: 'x', node_name: '抄送支行负责人', created_at: '2026-11-28T07:00:00Z', read: false }).unread).toBe(true)
    const d = inboxCard('done', {
      task_id: 1,
      instance_id: 3,
      title: 'x',
      flow_name: '贷款审批',
      node_name: '业务经理初审',
      initiator: null,
      amount: '1.5',
      action: 'approved',
      closed_at: '2026-11-28T07:00:00Z',
      status: 'running',
    })
    expect(d.nodeName).toBe('业务经理初审 · 同意')
    expect(d.statusLabel).toBe('审批中')
    expect(d.amount).toBe('¥1.50')
  })
})

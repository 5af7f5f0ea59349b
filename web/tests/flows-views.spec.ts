import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { InstanceDetail } from '@/api/flows'
import { resetInboxCounts } from '@/components/flows/inboxCounts'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from './helpers'
import { mountApp, settle, waitFor as waitForShort } from './mount'

/** Lazy route chunks compile on first use: poll generously (a load ceiling, not a timing check). */
const waitFor = (check: () => boolean) => waitForShort(check, 10000)

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  resetInboxCounts()
  setLocale('zh-CN', { persist: false })
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

const tid = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)
const inBody = (id: string) => document.body.querySelector<HTMLElement>(`[data-testid="${id}"]`)

const manager = makeMe({ id: 3, username: 'manager', full_name: '李经理', permissions: ['accounts.view_users'] })
const counts = { todo: 2, done: 5, cc_unread: 1, mine_running: 0 }
const todoItem = (taskId: number, instanceId: number, canBatch = true) => ({
  task_id: taskId,
  instance_id: instanceId,
  title: `客户${instanceId} · 个人消费贷`,
  flow_name: '贷款审批',
  node_name: '业务经理初审',
  initiator: { id: 6, name: '王小明' },
  amount: '120000.00',
  created_at: new Date(Date.now() - 2 * 3600 * 1000).toISOString(),
  due_at: null,
  overdue: false,
  urged_at: instanceId === 11 ? new Date().toISOString() : null,
  can_batch: canBatch,
})

describe('approval inbox', { timeout: 20000 }, () => {
  it('shows the counts on the tabs and the tab bar, the todo cards, and switches tabs', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/inbox/todo': { body: { items: [todoItem(1, 11), todoItem(2, 12)], next: null } },
      'GET /flows/inbox/mine': { body: { items: [], next: null } },
    })
    ;({ wrapper } = await mountApp('/approvals'))
    await waitFor(() => tid(wrapper!, 'inbox-item-11').exists())
    expect(tid(wrapper, 'inbox-item-11').text()).toContain('¥120,000.00')
    expect(tid(wrapper, 'inbox-item-11').text()).toContain('已等待 2小时')
    expect(tid(wrapper, 'inbox-item-11').find('[data-testid="inbox-item-urged"]').exists()).toBe(true)
    expect(tid(wrapper, 'inbox-item-12').find('[data-testid="inbox-item-urged"]').exists()).toBe(false)
    // The 审批 tab of the tab bar carries the todo count.
    expect(tid(wrapper, 'tab-approvals').find('.van-badge').text()).toBe('2')
    expect(wrapper.text()).toContain('抄送我')

    await tid(wrapper, 'inbox-tab-mine').trigger('click')
    await waitFor(() => tid(wrapper!, 'inbox-empty').exists())
    expect(tid(wrapper, 'inbox-empty').text()).toContain('你还没有发起审批')
    expect(calls.some((c) => c.path === '/flows/inbox/mine')).toBe(true)
  })

  it('batch approves the selected tasks and shows the per-item result', async () => {
    let batchBody: unknown
    let todoCalls = 0
    mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/inbox/todo': () => {
        todoCalls += 1
        return { body: { items: todoCalls === 1 ? [todoItem(1, 11), todoItem(2, 12), todoItem(3, 13, false)] : [], next: null } }
      },
      'POST /flows/tasks/batch': (req: MockRequest) => {
        batchBody = req.body
        return { body: { results: [{ task_id: 1, ok: true }, { task_id: 2, ok: false, code: 'flow.task_closed', message: '该任务已被处理' }] } }
      },
    })
    ;({ wrapper } = await mountApp('/approvals'))
    await waitFor(() => tid(wrapper!, 'inbox-batch-toggle').exists())
    await tid(wrapper, 'inbox-batch-toggle').trigger('click')
    await tid(wrapper, 'inbox-item-11').trigger('click')
    await tid(wrapper, 'inbox-item-12').trigger('click')
    await tid(wrapper, 'inbox-item-13').trigger('click') // not batchable: ignored
    expect(tid(wrapper, 'inbox-batch-bar').text()).toContain('已选 2 项')
    await tid(wrapper, 'inbox-batch-approve').trigger('click')
    await settle()
    inBody('inbox-batch-confirm')!.click()
    await waitFor(() => !!inBody('inbox-batch-summary'))
    expect(batchBody).toEqual({ task_ids: [1, 2], action: 'approve' })
    expect(inBody('inbox-batch-summary')!.textContent).toContain('成功 1 项，失败 1 项')
    expect(inBody('inbox-batch-row-2')!.textContent).toContain('该任务已被处理')
    expect(inBody('inbox-batch-row-1')!.textContent).toContain('客户11')
  })

  it('batch reject needs a reason', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/inbox/todo': { body: { items: [todoItem(1, 11)], next: null } },
    })
    ;({ wrapper } = await mountApp('/approvals'))
    await waitFor(() => tid(wrapper!, 'inbox-batch-toggle').exists())
    await tid(wrapper, 'inbox-batch-toggle').trigger('click')
    await tid(wrapper, 'inbox-item-11').trigger('click')
    await tid(wrapper, 'inbox-batch-reject').trigger('click')
    await settle()
    inBody('inbox-batch-confirm')!.click()
    await settle()
    expect(calls.some((c) => c.path === '/flows/tasks/batch')).toBe(false)
    expect(document.body.textContent).toContain('请填写拒绝理由')
  })
})

function detail(overrides: Partial<InstanceDetail> = {}): InstanceDetail {
  return {
    id: 12,
    title: '张伟 · 个人消费贷 · ¥200,000.00',
    status: 'running',
    status_label: '审批中',
    version: 7,
    flow: { key: 'loan_approval', name: '贷款审批', version: 1 },
    initiator: { id: 6, name: '王小明', department: '北京一组' },
    started_at: '2026-11-28T01:00:00Z',
    finished_at: null,
    current_node: { id: 'risk_review', name: '风控审核' },
    record: {
      form_code: 'loan_application',
      id: 33,
      serial_no: 'SQ202611280001',
      fields: [
        { key: 'amount', label: '申请金额', type: 'money', value: '200000.00', display: '¥200,000.00', permission: 'edit' },
        { key: 'purpose', label: '用途', type: 'select', value: 'consumption', display: '日常消费', permission: 'read' },
      ],
    },
    customer: {
      id: 8,
      name: '张伟',
      id_number_masked: '110***********1234',
      phone_masked: '138****5678',
      credit_level: 'A',
      owner: '王小明',
      tags: ['优质'],
      loan_count: 1,
      outstanding: '50000.00',
    },
    risk: {
      scorecard: 'default',
      version: 1,
      score: 640,
      grade: 'B',
      decision: 'review',
      decision_label: '人工复核',
      reasons: [{ code: 'income', label: '收入', points: 20, detail: '月收入 3 万' }],
      factors: {},
      evaluated_at: '2026-11-28T02:00:00Z',
    },
    contract: null,
    loan: null,
    progress: [
      {
        node_id: 'start',
        kind: 'start',
        name: '客户经理提交',
        status: 'done',
        depth: 0,
        branch_id: null,
        outcome: null,
        chosen_branch: null,
        entered_at: '2026-11-28T01:00:00Z',
        left_at: '2026-11-28T01:00:00Z',
        duration_seconds: 0,
        waiting_for: [],
        due_at: null,
        acts: [{ actor: '6', actor_name: '王小明', action: 'submitted', action_label: '提交', at: '2026-11-28T01:00:00Z' }],
      },
      {
        node_id: 'risk_review',
        kind: 'approval',
        name: '风控审核',
        status: 'current',
        depth: 0,
        branch_id: null,
        outcome: null,
        chosen_branch: null,
        entered_at: '2026-11-28T02:00:00Z',
        left_at: null,
        duration_seconds: null,
        waiting_for: [{ id: 4, name: '孙风控' }],
        due_at: null,
        acts: [],
      },
    ],
    history: [
      {
        seq: 1,
        at: '2026-11-28T01:00:00Z',
        actor: { id: 6, name: '王小明' },
        action: 'submitted',
        action_label: '提交',
        node_id: 'start',
        node_name: '客户经理提交',
        comment: null,
        attachments: [],
        signature: null,
        target: null,
        duration_seconds: null,
      },
    ],
    my_task: {
      id: 91,
      engine_task_id: 'risk_review:1:0',
      node_id: 'risk_review',
      node_name: '风控审核',
      actions: ['approve', 'reject', 'return', 'comment'],
      return_options: [
        { id: 'initiator', name: '发起人' },
        { id: 'manager_review', name: '业务经理初审' },
      ],
      editable_fields: ['amount'],
      due_at: null,
    },
    can_withdraw: false,
    can_urge: false,
    can_resubmit: false,
    can_retry: false,
    can_cancel: false,
    status_url: null,
    ...overrides,
  }
}

const risk = makeMe({ id: 4, username: 'risk', full_name: '孙风控', permissions: ['forms.view_records'] })
const formDetail = {
  id: 1,
  code: 'loan_application',
  name: '贷款申请',
  description: '',
  kind: 'application',
  is_active: true,
  version: 1,
  published_at: null,
  has_draft: false,
  updated_at: '2026-11-28T01:00:00Z',
  schema: { fields: [{ key: 'amount', type: 'money', label: '申请金额' }] },
  modes: {},
}

describe('instance page', { timeout: 20000 }, () => {
  it('shows the application, customer, risk, timeline and history; approves with the edited amount', async () => {
    let acted: unknown
    mockFetch({
      'GET /auth/me': { body: risk },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/instances/12': { body: detail() },
      'GET /forms/loan_application': { body: formDetail },
      'POST /flows/instances/12/act': (req: MockRequest) => {
        acted = req.body
        return { body: detail({ version: 8, my_task: null, current_node: { id: 'contract', name: '生成合同' } }) }
      },
    })
    ;({ wrapper } = await mountApp('/approvals/12'))
    await waitFor(() => tid(wrapper!, 'instance-header').exists())
    expect(tid(wrapper, 'instance-status').text()).toBe('审批中')
    expect(tid(wrapper, 'instance-customer').text()).toContain('110***********1234')
    expect(tid(wrapper, 'instance-customer-outstanding').text()).toContain('¥50,000.00')
    expect(tid(wrapper, 'instance-risk').find('[data-testid="risk-score"]').text()).toBe('640')
    expect(tid(wrapper, 'app-field-purpose').text()).toContain('日常消费')
    expect(tid(wrapper, 'timeline-node-risk_review').attributes('data-status')).toBe('current')
    expect(tid(wrapper, 'timeline-node-risk_review').text()).toContain('待 孙风控 处理')
    expect(tid(wrapper, 'instance-history').text()).toContain('王小明')

    const amount = tid(wrapper, 'field-amount')
    await amount.setValue('150000')
    await tid(wrapper, 'act-approve').trigger('click')
    await settle()
    expect(inBody('act-edits')!.textContent).toContain('1 项')
    const comment = inBody('act-comment') as HTMLTextAreaElement
    comment.value = '额度下调'
    comment.dispatchEvent(new Event('input'))
    inBody('act-confirm')!.click()
    await waitFor(() => acted !== undefined)
    expect(acted).toEqual({ task_id: 91, action: 'approve', expected_version: 7, comment: '额度下调', data: { amount: '150000' } })
    await settle()
    expect(tid(wrapper, 'instance-actions').exists()).toBe(false)
  })

  it('return: picks the target from return_options and requires a comment', async () => {
    let acted: unknown
    mockFetch({
      'GET /auth/me': { body: risk },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/instances/12': { body: detail() },
      'GET /forms/loan_application': { body: formDetail },
      'POST /flows/instances/12/act': (req: MockRequest) => {
        acted = req.body
        return { body: detail({ status: 'running', my_task: null }) }
      },
    })
    ;({ wrapper } = await mountApp('/approvals/12'))
    await waitFor(() => tid(wrapper!, 'act-more').exists())
    await tid(wrapper, 'act-more').trigger('click')
    await settle()
    const sheet = inBody('act-more-sheet')!
    const returnItem = Array.from(sheet.querySelectorAll('button')).find((b) => b.textContent?.includes('退回'))!
    returnItem.click()
    await settle()
    inBody('act-return-manager_review')!.click()
    await settle()
    inBody('act-confirm')!.click()
    await settle()
    expect(acted).toBeUndefined() // no comment yet
    const comment = inBody('act-comment') as HTMLTextAreaElement
    comment.value = '请补充材料'
    comment.dispatchEvent(new Event('input'))
    inBody('act-confirm')!.click()
    await waitFor(() => acted !== undefined)
    expect(acted).toEqual({ task_id: 91, action: 'return', expected_version: 7, comment: '请补充材料', target: 'manager_review' })
  })

  it('a stale version answers 409: the page offers to reload', async () => {
    let loads = 0
    mockFetch({
      'GET /auth/me': { body: risk },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/instances/12': () => {
        loads += 1
        return { body: detail() }
      },
      'GET /forms/loan_application': { body: formDetail },
      'POST /flows/instances/12/act': apiError(409, 'flow.conflict', '审批已被他人更新'),
    })
    ;({ wrapper } = await mountApp('/approvals/12'))
    await waitFor(() => tid(wrapper!, 'act-approve').exists())
    await tid(wrapper, 'act-approve').trigger('click')
    await settle()
    inBody('act-confirm')!.click()
    await waitFor(() => !!document.body.querySelector('.van-dialog'))
    expect(document.body.querySelector('.van-dialog')!.textContent).toContain('请刷新后再操作')
    ;(document.body.querySelector('.van-dialog__confirm') as HTMLElement).click()
    await waitFor(() => loads === 2)
  })

  it('the initiator urges; too soon says when the next urge is possible', async () => {
    let urges = 0
    mockFetch({
      'GET /auth/me': { body: makeMe({ id: 6 }) },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/instances/12': { body: detail({ my_task: null, can_urge: true, can_withdraw: true, status_url: '/s/abc' }) },
      'POST /flows/instances/12/urge': () => {
        urges += 1
        return urges === 1
          ? { body: detail({ my_task: null, can_urge: true }) }
          : apiError(429, 'flow.urge_too_soon', '催办太频繁', { next_at: '2026-11-28T03:00:00Z' })
      },
    })
    ;({ wrapper } = await mountApp('/approvals/12'))
    await waitFor(() => tid(wrapper!, 'act-urge').exists())
    expect(tid(wrapper, 'act-withdraw').exists()).toBe(true)
    expect(tid(wrapper, 'act-approve').exists()).toBe(false)
    expect(tid(wrapper, 'instance-status-link').text()).toContain('/s/abc')
    await tid(wrapper, 'act-urge').trigger('click')
    await waitFor(() => document.body.textContent!.includes('已催办'))
    await tid(wrapper, 'act-urge').trigger('click')
    await waitFor(() => document.body.textContent!.includes('后可再次催办'))
    expect(document.body.textContent).toContain('2026/11/28 11:00')
  })

  it('an instance the user may not see reads as not found', async () => {
    mockFetch({
      'GET /auth/me': { body: risk },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/instances/99': apiError(404, 'not_found', '未找到'),
    })
    ;({ wrapper } = await mountApp('/approvals/99'))
    await waitFor(() => wrapper!.text().includes('审批不存在或你无权查看'))
  })
})

describe('borrower status page', { timeout: 20000 }, () => {
  it('shows the flow steps in plain words', async () => {
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/status/tok123': {
        body: {
          form_name: '贷款申请',
          serial_no: 'SQ1',
          submitted_at: '2026-11-28T01:00:00Z',
          status: 'submitted',
          status_label: '已提交',
          flow: {
            status: 'running',
            summary: '您的申请正在审核中，请耐心等待。',
            steps: [
              { label: '提交申请', status: 'done', text: '已完成' },
              { label: '初审', status: 'current', text: '进行中' },
              { label: '放款', status: 'pending', text: '未开始' },
            ],
          },
        },
      },
    })
    ;({ wrapper } = await mountApp('/s/tok123'))
    await waitFor(() => tid(wrapper!, 'borrower-progress').exists())
    expect(tid(wrapper, 'borrower-summary').text()).toBe('您的申请正在审核中，请耐心等待。')
    expect(tid(wrapper, 'borrower-step-1').attributes('data-status')).toBe('current')
    expect(tid(wrapper, 'borrower-step-1').text()).toContain('初审')
    expect(tid(wrapper, 'borrower-step-2').text()).toContain('未开始')
  })
})

describe('process analytics', { timeout: 20000 }, () => {
  it('KPIs, node table and approver ranking; the flow filter reloads', async () => {
    const queries: string[] = []
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['flows.analytics'] }) },
      'GET /flows/inbox/counts': { body: counts },
      'GET /flows/definitions': { body: [{ key: 'loan_approval', name: '贷款审批', form_code: 'loan_application', is_active: true, published_version: 1 }] },
      'GET /flows/analytics': (req: MockRequest) => {
        queries.push(req.url.search)
        return {
          body: {
            instances: { total: 10, running: 3, approved: 5, rejected: 1, withdrawn: 1, cancelled: 0, error: 0 },
            approval_rate: 0.8333,
            turnaround_hours: { median: 20.25, p90: 41 },
            nodes: [{ node_id: 'manager_review', name: '业务经理初审', tasks: 9, median_hours: 2.5, p90_hours: 7.75, overdue: 1, rejected: 0, returned: 2 }],
            approvers: [{ user: { id: 3, name: '李经理' }, tasks: 9, median_hours: 2.5 }],
          },
        }
      },
    })
    ;({ wrapper } = await mountApp('/manage/flow-analytics'))
    await waitFor(() => tid(wrapper!, 'analytics-kpis').exists())
    expect(tid(wrapper, 'analytics-kpi-total').text()).toContain('10')
    expect(tid(wrapper, 'analytics-kpi-rate').text()).toContain('83.3%')
    expect(tid(wrapper, 'analytics-kpi-median').text()).toContain('20.3 小时')
    expect(tid(wrapper, 'analytics-node-manager_review').text()).toContain('7.8')
    expect(tid(wrapper, 'analytics-approvers').text()).toContain('李经理')
    await tid(wrapper, 'analytics-flow').trigger('click')
    await settle()
    const option = Array.from(document.body.querySelectorAll('.van-action-sheet__item')).find((b) => b.textContent?.includes('贷款审批')) as HTMLElement
    option.click()
    await waitFor(() => queries.length === 2)
    expect(queries[1]).toContain('flow_key=loan_approval')
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { resetCsrfState } from '@/api/client'
import type { FlowDefinition, FlowDetail, FlowSummary } from '@/api/flowDesign'
import { setLocale } from '@/i18n'
// Load the lazily routed views up front so navigation inside a test is immediate.
import '@/views/flowDesigner/FlowDesignerView.vue'
import '@/views/flowDesigner/FlowListView.vue'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  localStorage.clear()
  setLocale('zh-CN')
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

const admin = makeMe({ username: 'admin', permissions: ['flows.design', 'forms.design'], is_superuser: true })

function draft(): FlowDefinition {
  return {
    key: 'loan_approval',
    name: '贷款审批',
    version: 1,
    nodes: [
      { id: 'start', kind: 'start', name: '客户经理提交' },
      { id: 'risk_review', kind: 'approval', name: '风控审核', assignees: [{ kind: 'role', role: 'risk' }], deadline: { hours: 16, working_hours: true } },
      {
        id: 'amount_check',
        kind: 'condition_group',
        name: '金额判断',
        branches: [
          { id: 'large', name: '大额', condition: { '>': [{ var: 'amount' }, 500000] }, nodes: [] },
          { id: 'normal', name: '其他情况', default: true, nodes: [] },
        ],
      },
      { id: 'end', kind: 'end', name: '结束' },
    ],
  }
}

function detail(over: Partial<FlowDetail> = {}): FlowDetail {
  return {
    key: 'loan_approval',
    name: '贷款审批',
    description: '',
    form_code: 'loan_application',
    form_name: '贷款申请',
    is_active: true,
    draft: draft(),
    draft_issues: [],
    published: { version: 1, definition: draft(), published_at: '2026-11-01T02:00:00Z', published_by: { id: 1, full_name: '管理员' } },
    versions: [{ version: 1, published_at: '2026-11-01T02:00:00Z', published_by: { id: 1, full_name: '管理员' }, instance_count: 3 }],
    form_fields: [
      { key: 'amount', label: '申请金额', type: 'money' },
      { key: 'product', label: '贷款产品', type: 'select', options: [{ value: 'car', label: '车贷' }] },
    ],
    automated_actions: ['risk_scorecard', 'generate_contract', 'send_message'],
    roles: [
      { code: 'risk', name: '风控专员' },
      { code: 'gm', name: '总经理' },
    ],
    ...over,
  }
}

const q = <T extends Element = HTMLElement>(testid: string): T | null =>
  document.body.querySelector<T>(`[data-testid="${testid}"]`)
async function click(testid: string): Promise<void> {
  const el = q(testid)
  if (!el) throw new Error(`no element ${testid}`)
  el.click()
  await settle()
}
async function select(testid: string, value: string): Promise<void> {
  const el = q<HTMLSelectElement>(testid)!
  el.value = value
  el.dispatchEvent(new Event('change'))
  await settle()
}
async function confirmDialog(): Promise<void> {
  await waitFor(() => !!document.querySelector('.van-dialog__confirm'))
  ;(document.querySelector('.van-dialog__confirm') as HTMLElement).click()
  await settle()
}

describe('flow list', () => {
  it('lists flows with form, version, draft badge and running count, and toggles active', async () => {
    const flows: FlowSummary[] = [
      { key: 'loan_approval', name: '贷款审批', description: '', form_code: 'loan_application', form_name: '贷款申请', is_active: true, published_version: 2, has_draft: true, running_count: 5, updated_at: '' },
    ]
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /flows/definitions': { body: flows },
      'PATCH /flows/definitions/loan_approval': { body: detail({ is_active: false }) },
    })
    const app = await mountApp('/manage/flows')
    wrapper = app.wrapper
    await waitFor(() => !!q('flow-row-loan_approval'))
    const row = q('flow-row-loan_approval')!.textContent!
    expect(row).toContain('贷款审批')
    expect(row).toContain('表单:贷款申请')
    expect(row).toContain('v2')
    expect(row).toContain('草稿')
    expect(row).toContain('运行中 5')
    await click('flow-active-loan_approval')
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toEqual({ is_active: false })
  })

  it('creates a flow bound to a form and opens it', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /flows/definitions': { body: [] },
      'GET /forms': { body: [{ id: 1, code: 'loan_application', name: '贷款申请', description: '', kind: 'application', is_active: true, version: 1, published_at: null, has_draft: false, updated_at: '' }] },
      'POST /flows/definitions': (req: MockRequest) => ({ status: 201, body: detail({ key: (req.body as { key: string }).key }) }),
      'GET /flows/definitions/car_loan': { body: detail({ key: 'car_loan' }) },
    })
    const app = await mountApp('/manage/flows')
    wrapper = app.wrapper
    await waitFor(() => !!q('flows-create'))
    await click('flows-create')
    await waitFor(() => !!q('flow-create-sheet'))
    const set = async (testid: string, value: string) => {
      const input = q(testid)!.querySelector('input')!
      input.value = value
      input.dispatchEvent(new Event('input'))
      await settle()
    }
    await set('flow-create-key', 'bad key!')
    await click('flow-create-submit')
    expect(q('flow-create-sheet')!.textContent).toContain('只能包含英文字母')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    await set('flow-create-key', 'car_loan')
    await set('flow-create-name', '车贷审批')
    q('flow-create-form')!.querySelector('input')!.click()
    await settle()
    const item = [...document.querySelectorAll<HTMLElement>('.van-action-sheet__item')].find((b) => b.textContent?.includes('贷款申请'))!
    item.click()
    await settle()
    expect(q('flow-create-form')!.querySelector('input')!.value).toBe('贷款申请')
    await click('flow-create-submit')
    const post = calls.find((c) => c.method === 'POST' && c.path === '/flows/definitions')!
    expect(post.body).toEqual({ key: 'car_loan', name: '车贷审批', form_code: 'loan_application' })
    await waitFor(() => app.router.currentRoute.value.path === '/manage/flows/car_loan')
    await waitFor(() => !!q('node-start'))
  })
})

describe('flow designer', () => {
  it('renders the tree with readable summaries and branch conditions', async () => {
    mockFetch({ 'GET /auth/me': { body: admin }, 'GET /flows/definitions/loan_approval': { body: detail() } })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('node-start'))
    expect(q('summary-risk_review')!.textContent).toBe('角色:风控专员 · 或签 · 16 工作小时')
    expect(q('branch-summary-large')!.textContent!.trim()).toBe('申请金额 > 500000')
    expect(q('branch-normal')!.textContent).toContain('默认')
    expect(q('designer-status')!.textContent).toContain('已发布 v1')
    // A "+" after every node but the end, and at the head of each branch.
    expect(q('add-root-1')).not.toBeNull()
    expect(q('add-large-0')).not.toBeNull()
    expect(q('add-root-4')).toBeNull()
  })

  it('inserts an approval node, sets a role, shows the missing-assignee problem on the card and saves', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /flows/definitions/loan_approval': { body: detail() },
      'PUT /flows/definitions/loan_approval/draft': (req: MockRequest) => ({
        body: { draft: (req.body as { definition: FlowDefinition }).definition, issues: [] },
      }),
    })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('add-root-1'))
    await click('add-root-1')
    await click('insert-approval')
    await waitFor(() => !!q('node-settings'))
    const id = 'approval_1'
    expect(q(`node-${id}`)).not.toBeNull()
    // No assignee yet: the card is outlined red with the message.
    expect(q(`node-${id}`)!.classList).toContain('ft-card--bad')
    expect(q(`issue-${id}`)!.textContent).toContain('请设置审批人')
    expect(q('issues-open')!.textContent).toContain('1 个问题')

    await click('assignees-add')
    const role = [...document.querySelectorAll<HTMLElement>('.van-action-sheet__item')].find((b) => b.textContent?.trim() === '角色')!
    role.click()
    await settle()
    await select('assignees-0-role', 'gm')
    await click('mode-all')
    expect(q(`summary-${id}`)!.textContent).toBe('角色:总经理 · 会签')
    expect(q(`issue-${id}`)).toBeNull()
    expect(q('issues-open')).toBeNull()

    // Field permissions list the bound form's fields.
    await click('perm-amount-edit')
    await click('settings-done')
    await click('designer-save')
    const put = calls.find((c) => c.method === 'PUT')!
    const sent = (put.body as { definition: FlowDefinition }).definition
    expect(sent.nodes.map((n) => n.id)).toEqual(['start', id, 'risk_review', 'amount_check', 'end'])
    expect(sent.nodes[1]).toMatchObject({
      kind: 'approval',
      assignees: [{ kind: 'role', role: 'gm' }],
      mode: 'all',
      field_permissions: { amount: 'edit' },
    })
    expect(q('designer-status')!.textContent).toContain('草稿已保存')
  })

  it('adds a branch with a condition, reorders it and keeps the default last', async () => {
    mockFetch({ 'GET /auth/me': { body: admin }, 'GET /flows/definitions/loan_approval': { body: detail() } })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('add-branch-amount_check'))
    await click('add-branch-amount_check')
    await waitFor(() => !!q('branch-cond'))
    const ids = () => [...document.querySelectorAll('[data-testid^="branch-summary-"]')].map((e) => e.getAttribute('data-testid'))
    expect(ids()).toEqual(['branch-summary-large', 'branch-summary-branch_1', 'branch-summary-normal'])
    expect(q('issue-branch_1')!.textContent).toContain('请设置分支条件')
    await click('branch-cond-add-group')
    await select('branch-cond-0-0-field', 'amount')
    await select('branch-cond-0-0-op', '<=')
    const v = q<HTMLInputElement>('branch-cond-0-0-value')!
    v.value = '100000'
    v.dispatchEvent(new Event('input'))
    await settle()
    expect(q('branch-summary-branch_1')!.textContent!.trim()).toBe('申请金额 ≤ 100000')
    expect(q('issue-branch_1')).toBeNull()
    await click('settings-branch-left')
    expect(ids()).toEqual(['branch-summary-branch_1', 'branch-summary-large', 'branch-summary-normal'])
    expect(q('branch-normal')!.querySelector('[data-testid^="branch-left-"]')).toBeNull()
  })

  it('shows server issues on the node and in a list, then publishes a new version', async () => {
    const issue = { node_id: 'risk_review', code: 'flow.def.no_return_target', field: 'return_targets', params: {}, message: '允许退回时必须选择退回目标' }
    let published = false
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /flows/definitions/loan_approval': () => ({
        body: published
          ? detail({
              published: { version: 2, definition: draft(), published_at: '2026-11-28T02:00:00Z', published_by: null },
              versions: [
                { version: 1, published_at: '2026-11-01T02:00:00Z', published_by: null, instance_count: 3 },
                { version: 2, published_at: '2026-11-28T02:00:00Z', published_by: null, instance_count: 0 },
              ],
            })
          : detail(),
      }),
      'POST /flows/definitions/loan_approval/validate': { body: { issues: [issue] } },
      'PUT /flows/definitions/loan_approval/draft': (req: MockRequest) => ({
        body: { draft: (req.body as { definition: FlowDefinition }).definition, issues: [] },
      }),
      'POST /flows/definitions/loan_approval/publish': () => {
        published = true
        return { status: 201, body: { version: 2 } }
      },
    })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('designer-validate'))
    await click('designer-validate')
    await waitFor(() => !!q('issues-sheet'))
    expect(q('issue-row-risk_review')!.textContent).toContain('风控审核')
    expect(q('issue-risk_review')!.textContent).toContain('允许退回时必须选择退回目标')
    expect(q('node-risk_review')!.classList).toContain('ft-card--bad')
    await click('issue-row-risk_review')

    await click('designer-publish')
    await confirmDialog()
    await waitFor(() => calls.some((c) => c.path.endsWith('/publish')))
    const order = calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)
    expect(order).toEqual([
      'POST /flows/definitions/loan_approval/validate',
      'PUT /flows/definitions/loan_approval/draft',
      'POST /flows/definitions/loan_approval/publish',
    ])
    await waitFor(() => q('designer-status')!.textContent!.includes('已发布 v2'))
  })

  it('reports publish refusals on the nodes', async () => {
    const issue = { node_id: 'risk_review', code: 'flow.def.no_assignee', field: 'assignees', params: {}, message: '审批节点没有审批人' }
    mockFetch({
      'GET /auth/me': { body: admin },
      'GET /flows/definitions/loan_approval': { body: detail() },
      'PUT /flows/definitions/loan_approval/draft': (req: MockRequest) => ({
        body: { draft: (req.body as { definition: FlowDefinition }).definition, issues: [] },
      }),
      'POST /flows/definitions/loan_approval/publish': apiError(422, 'flow.definition_invalid', '流程定义有误', { issues: [issue] }),
    })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('designer-publish'))
    await click('designer-publish')
    await confirmDialog()
    await waitFor(() => !!q('issue-risk_review'))
    expect(q('issue-risk_review')!.textContent).toContain('审批节点没有审批人')
    expect(q('issues-sheet')).not.toBeNull()
  })

  it('deletes and moves nodes, and asks before leaving with unsaved changes', async () => {
    mockFetch({ 'GET /auth/me': { body: admin }, 'GET /flows/definitions/loan_approval': { body: detail() }, 'GET /flows/definitions': { body: [] } })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('node-risk_review'))
    await click('add-root-2')
    await click('insert-cc')
    await waitFor(() => !!q('settings-move-up'))
    await click('settings-move-up')
    const order = () => [...document.querySelectorAll('.fdz-canvas > .ft-list > [data-node-id]')].map((e) => e.getAttribute('data-node-id'))
    expect(order()).toEqual(['start', 'cc_1', 'risk_review', 'amount_check', 'end'])
    await click('settings-remove')
    await confirmDialog()
    expect(order()).toEqual(['start', 'risk_review', 'amount_check', 'end'])

    await click('add-root-1')
    await click('insert-automated')
    await click('settings-done')
    void app.router.push('/manage/flows')
    await waitFor(() => !!document.querySelector('.van-dialog__cancel'))
    ;(document.querySelector('.van-dialog__cancel') as HTMLElement).click()
    await settle()
    expect(app.router.currentRoute.value.path).toBe('/manage/flows/loan_approval')
  })

  it('shows a published version read-only', async () => {
    mockFetch({
      'GET /auth/me': { body: admin },
      'GET /flows/definitions/loan_approval': { body: detail() },
      'GET /flows/definitions/loan_approval/versions/1': { body: detail().published },
    })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('designer-versions'))
    await click('designer-versions')
    expect(q('version-1')!.textContent).toContain('3 个实例')
    await click('version-1')
    await waitFor(() => !!q('readonly-tree'))
    const tree = q('readonly-tree')!
    expect(tree.textContent).toContain('风控审核')
    expect(tree.querySelector('.ft-add__btn')).toBeNull()
  })
})

describe('designer contract (users, field hints, draft_differs)', () => {
  it('hides the draft badge when the draft equals the published version', async () => {
    const flows: FlowSummary[] = [
      { key: 'loan_approval', name: '贷款审批', description: '', form_code: 'loan_application', form_name: '贷款申请', is_active: true, published_version: 2, has_draft: true, draft_differs: false, running_count: 0, updated_at: '' },
    ]
    mockFetch({ 'GET /auth/me': { body: admin }, 'GET /flows/definitions': { body: flows } })
    const app = await mountApp('/manage/flows')
    wrapper = app.wrapper
    await waitFor(() => !!q('flow-row-loan_approval'))
    expect(q('flow-row-loan_approval')!.textContent).toContain('v2')
    expect(q('draft-badge')).toBeNull()
  })

  it('names users from the server list and offers only user fields as 表单中的人员', async () => {
    const d = draft()
    d.nodes[1] = { ...d.nodes[1]!, assignees: [{ kind: 'user', user_ids: ['7'] }], ui: { users: { '7': '旧名字' } } }
    const body = detail({
      draft: d,
      users: [{ id: 7, name: '张三' }],
      form_fields: [
        { key: 'amount', label: '申请金额', label_en: 'Amount', type: 'money', is_user: false },
        { key: 'reviewer', label: '复核人', label_en: 'Reviewer', type: 'user', is_user: true },
      ],
    })
    mockFetch({ 'GET /auth/me': { body: admin }, 'GET /flows/definitions/loan_approval': { body } })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('summary-risk_review'))
    expect(q('summary-risk_review')!.textContent).toContain('指定成员:张三')
    await click('node-risk_review')
    await waitFor(() => !!q('node-settings'))
    await click('assignees-add')
    const kind = [...document.querySelectorAll<HTMLElement>('.van-action-sheet__item')].find((b) => b.textContent?.trim() === '表单中的人员')!
    kind.click()
    await settle()
    const options = [...q<HTMLSelectElement>('assignees-1-field')!.options].filter((o) => o.value).map((o) => o.value)
    expect(options).toEqual(['reviewer'])
  })

  it('shows English field labels in English', async () => {
    setLocale('en-US')
    const english = makeMe({ username: 'admin', permissions: ['flows.design'], is_superuser: true, language: 'en-US' })
    const body = detail({
      form_fields: [{ key: 'amount', label: '申请金额', label_en: 'Amount', type: 'money', is_user: false }],
    })
    mockFetch({ 'GET /auth/me': { body: english }, 'GET /flows/definitions/loan_approval': { body } })
    const app = await mountApp('/manage/flows/loan_approval')
    wrapper = app.wrapper
    await waitFor(() => !!q('branch-summary-large'))
    expect(q('branch-summary-large')!.textContent!.trim()).toBe('Amount > 500000')
  })
})

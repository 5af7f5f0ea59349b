import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { actionsFor, defaultParams, fieldRows, rowsToFields, type ActionSpec, type Rule } from '@/api/rules'
import { currentLocale, setLocale } from '@/i18n'
import { signedDays, triggerSummary } from '@/views/rules/display'
import { i18n } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined
const admin = makeMe({ permissions: ['rules.design'] })
const t = (k: string, p?: Record<string, unknown>) => i18n.global.t(k, p ?? {})

const actions: ActionSpec[] = [
  {
    name: 'update_fields',
    label: '修改字段',
    label_en: 'Update fields',
    params: [
      {
        key: 'target',
        label: '修改对象',
        label_en: 'Update',
        type: 'choice',
        required: false,
        options: [
          { value: 'record', label: '触发规则的记录', label_en: 'The record itself' },
          { value: 'customer', label: '记录所属客户', label_en: "The record's customer" },
        ],
        default: 'record',
      },
      { key: 'fields', label: '字段与新值', label_en: 'Fields', type: 'fields', required: true, options: [], default: null },
    ],
    record_types: [],
  },
  { name: 'start_flow', label: '发起审批流程', label_en: 'Start flow', params: [], record_types: ['application'] },
]
const recordTypes = [
  {
    key: 'loan',
    label: '贷款',
    label_en: 'Loans',
    needs_form: false,
    topics: [{ topic: 'loan.became_overdue', label: '贷款转逾期', label_en: 'Loan became overdue' }],
    forms: [],
  },
  { key: 'customer', label: '客户', label_en: 'Customers', needs_form: false, topics: [], forms: [] },
]
const loanFields = [
  { key: 'bucket', label: '逾期分档', label_en: 'Bucket', type: 'select', options: [{ value: 'M2', label: 'M2', label_en: 'M2' }], settable: false, date_trigger: false },
  { key: 'principal', label: '本金(元)', label_en: 'Principal', type: 'money', options: [], settable: false, date_trigger: false },
]
const customerFields = [
  {
    key: 'credit_level',
    label: '信用等级',
    label_en: 'Credit level',
    type: 'select',
    options: [{ value: 'watch', label: '关注', label_en: 'Watch' }],
    settable: true,
    date_trigger: false,
  },
]
const saved: Rule = {
  id: 5,
  code: null,
  name: '大额逾期',
  description: '',
  enabled: false,
  record_type: 'loan',
  form_code: '',
  trigger_type: 'event',
  trigger: { kind: 'event', topic: 'loan.became_overdue' },
  condition: { '>': [{ var: 'principal' }, 50000] },
  actions: [{ action: 'update_fields', params: { target: 'customer', fields: { credit_level: 'watch' } } }],
  watermark: null,
  run_as: { id: 1, name: '系统管理员' },
  updated_at: '2026-03-01T00:00:00Z',
  unknown_actions: [],
  labels: { topic: '贷款转逾期' },
  counts: { done: 2, failed: 1 },
  last_firing: { id: 9, status: 'failed', created_at: '2026-03-01T01:00:00Z' },
}

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
})

function designerRoutes(extra: Record<string, unknown> = {}) {
  return {
    'GET /auth/me': { body: admin },
    'GET /rules/record-types': { body: recordTypes },
    'GET /rules/actions': { body: actions },
    'GET /rules/fields': (req: { url: URL }) => ({
      body: req.url.searchParams.get('record_type') === 'customer' ? customerFields : loanFields,
    }),
    ...extra,
  }
}

async function select(testid: string, value: string): Promise<void> {
  const el = wrapper!.find(`[data-testid="${testid}"]`)
  await el.setValue(value)
  await settle(1)
}

describe('rule helpers', () => {
  it('summarises triggers and converts day offsets', () => {
    expect(signedDays(3, 'before')).toBe(-3)
    expect(signedDays(-2, 'after')).toBe(2)
    expect(triggerSummary({ trigger_type: 'date', trigger: { field: 'due_date', days: -3, at: '09:00' } }, t)).toBe(
      'due_date 前 3 天 09:00',
    )
    expect(triggerSummary({ trigger_type: 'cron', trigger: { cron: '0 9 * * 1' } }, t)).toBe('定时 0 9 * * 1')
    expect(triggerSummary({ trigger_type: 'event', trigger: { kind: 'field_changed', field: 'bucket', to: 'M2' } }, t)).toBe(
      'bucket → M2',
    )
  })

  it('filters actions by record type and fills defaults', () => {
    expect(actionsFor(actions, 'loan').map((a) => a.name)).toEqual(['update_fields'])
    expect(actionsFor(actions, 'application').map((a) => a.name)).toEqual(['update_fields', 'start_flow'])
    expect(defaultParams(actions[0])).toEqual({ target: 'record', fields: {} })
    expect(rowsToFields(fieldRows({ a: 1, b: null }))).toEqual({ a: '1', b: '' })
  })
})

describe('rules list', () => {
  it('shows rules with counts and toggles one on', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /rules': { body: [saved] },
      'POST /rules/5/enabled': (req: { body: unknown }) => ({ body: { ...saved, enabled: (req.body as { enabled: boolean }).enabled } }),
    })
    const app = await mountApp('/manage/rules')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="rule-5"]').exists())
    const card = wrapper.find('[data-testid="rule-5"]').text()
    expect(card).toContain('大额逾期')
    expect(card).toContain('成功 2 · 失败 1')
    expect(card).toContain('已停用')
    expect(card).toContain('贷款转逾期')
    await wrapper.find('[data-testid="rule-toggle-5"]').trigger('click')
    await settle()
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ enabled: true })
    await waitFor(() => wrapper!.find('[data-testid="rule-5"]').text().includes('已启用'))
  })
})

describe('rule designer', () => {
  it('builds a rule by picking a trigger, a field condition and an action, and saves it', async () => {
    const { calls } = mockFetch(
      designerRoutes({
        'POST /rules': (req: { body: unknown }) => ({ status: 201, body: { ...saved, ...(req.body as object), id: 7 } }),
        'GET /rules/7': { body: { ...saved, id: 7 } },
      }),
    )
    const app = await mountApp('/manage/rules/new')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="rule-name"]').exists())
    await wrapper.find('[data-testid="rule-name"]').setValue('逾期改关注')
    await select('rule-event-kind', 'event')
    await select('rule-event-topic', 'loan.became_overdue')
    // condition: pick the field from the record type's fields (the form designer's builder)
    await wrapper.find('[data-testid="rule-cond-add-group"]').trigger('click')
    await select('rule-cond-0-0-field', 'principal')
    await select('rule-cond-0-0-op', '>')
    await wrapper.find('[data-testid="rule-cond-0-0-value"]').setValue('50000')
    await settle(1)
    // action with param widgets from the registry
    await wrapper.find('[data-testid="rule-add-action"]').trigger('click')
    await settle(1)
    await select('rule-action-0-target', 'customer')
    await wrapper.find('[data-testid="rule-action-0-add-field"]').trigger('click')
    await settle(1)
    await select('rule-action-0-value-0', 'watch')
    await wrapper.find('[data-testid="rule-save"]').trigger('click')
    await settle()
    const post = calls.find((c) => c.method === 'POST' && c.path === '/rules')
    expect(post?.body).toEqual({
      name: '逾期改关注',
      description: '',
      enabled: false,
      record_type: 'loan',
      form_code: '',
      trigger_type: 'event',
      trigger: { kind: 'event', topic: 'loan.became_overdue' },
      condition: { '>': [{ var: 'principal' }, 50000] },
      actions: [{ action: 'update_fields', params: { target: 'customer', fields: { credit_level: 'watch' } } }],
    })
    await waitFor(() => app.router.currentRoute.value.path === '/manage/rules/7')
  })

  it('sends a date trigger with signed days and shows server errors in place', async () => {
    const { calls } = mockFetch(
      designerRoutes({
        'POST /rules': apiError(422, 'validation_error', '提交的数据有误', {
          fields: { trigger: 'Cron 表达式无效' },
        }),
      }),
    )
    const app = await mountApp('/manage/rules/new')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="rule-trigger-cron"]').exists())
    await wrapper.find('[data-testid="rule-trigger-cron"]').trigger('click')
    await wrapper.find('[data-testid="rule-cron"]').setValue('61 * * * *')
    await wrapper.find('[data-testid="rule-save"]').trigger('click')
    await settle()
    expect(calls.find((c) => c.method === 'POST')?.body).toMatchObject({ trigger_type: 'cron', trigger: { cron: '61 * * * *' } })
    expect(wrapper.find('[data-testid="rule-trigger-error"]').text()).toContain('Cron 表达式无效')
  })

  it('tests the rule against a chosen record and shows the dry run', async () => {
    const { calls } = mockFetch(
      designerRoutes({
        'GET /rules/5': { body: saved },
        'GET /rules/records': { body: [{ id: 11, label: 'LD20260110001 曹强' }] },
        'POST /rules/test': {
          body: {
            record: { id: 11, label: 'LD20260110001 曹强' },
            values: { principal: '100000.00', bucket: 'M0' },
            condition: { result: true, error: '' },
            trigger: {},
            actions: [{ action: 'update_fields', ok: true, result: { would_set: { credit_level: ['B', 'watch'] } } }],
            error: '',
            would_fire: true,
          },
        },
      }),
    )
    const app = await mountApp('/manage/rules/5')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="rule-test-search"]').exists())
    await wrapper.find('[data-testid="rule-test-query"]').setValue('LD2026')
    await wrapper.find('[data-testid="rule-test-search"]').trigger('click')
    await settle()
    await wrapper.find('[data-testid="rule-test-run"]').trigger('click')
    await settle()
    const test = calls.find((c) => c.path === '/rules/test')
    expect(test?.body).toMatchObject({ record_id: 11, rule: { name: '大额逾期', record_type: 'loan' } })
    const result = wrapper.find('[data-testid="rule-test-result"]').text()
    expect(result).toContain('条件成立')
    expect(result).toContain('启用后会执行')
    expect(wrapper.find('[data-testid="rule-test-action-0"]').text()).toContain('watch')
    expect(wrapper.find('[data-testid="rule-test-values"]').text()).toContain('100000.00')
  })
})

describe('firing log', () => {
  it('filters by status and retries a failed firing', async () => {
    const failed = {
      id: 3,
      rule_id: 5,
      rule_name: '大额逾期',
      key: '5|loan:11|ev:abc',
      record_type: 'loan',
      record_id: 11,
      record_label: 'LD20260110001 曹强',
      trigger_type: 'event',
      occurrence: 'ev:abc',
      occurred_at: '2026-03-01T01:00:00Z',
      status: 'failed',
      results: [{ action: 'send_message', ok: false, error: '未知动作“send_message”' }],
      error: '未知动作“send_message”',
      attempts: 1,
      created_at: '2026-03-01T01:00:00Z',
      started_at: null,
      finished_at: null,
      duration_ms: 3,
    }
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /rules': { body: [saved] },
      'GET /rules/firings': { body: { items: [failed], count: 1, page: 1, page_size: 20 } },
      'POST /rules/firings/3/retry': { body: { ...failed, status: 'done', attempts: 2, error: '', results: [] } },
    })
    const app = await mountApp('/manage/rules/firings')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="firing-3"]').exists())
    expect(wrapper.find('[data-testid="firing-3"]').text()).toContain('未知动作')
    await select('firings-status', 'failed')
    await settle()
    const lists = calls.filter((c) => c.path === '/rules/firings')
    expect(lists.at(-1)?.url.searchParams.get('status')).toBe('failed')
    await wrapper.find('[data-testid="firing-retry-3"]').trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/rules/firings/3/retry')).toBe(true)
    await waitFor(() => wrapper!.find('[data-testid="firing-3"]').text().includes('成功'))
  })
})

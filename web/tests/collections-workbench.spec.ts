import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { addDays, amountProblem, dateProblem, telHref, type CaseDetail, type CaseItem } from '@/api/collections'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie, apiError } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const collector = makeMe({
  id: 8,
  username: 'collector',
  full_name: '周催收',
  permissions: ['collections.work'],
  business_date: '2026-11-28',
})

function item(id: number, over: Partial<CaseItem> = {}): CaseItem {
  return {
    id,
    status: 'open',
    close_reason: '',
    loan_id: id * 10,
    contract_no: `HT2026010${id}0001`,
    customer: { id: id * 100, name: `客户${id}`, phone: '138****0001' },
    collector: { id: 8, username: 'collector', full_name: '周催收' },
    team: { id: 1, name: 'M1 催收组' },
    bucket: 'M1',
    dpd: 5,
    opened_bucket: 'M1',
    opened_dpd: 1,
    overdue: '1200.00',
    owed_today: '1234.56',
    priority: 20,
    promise_date: null,
    promise_due: false,
    last_result: '',
    last_action_at: null,
    next_action_at: null,
    opened_at: '2026-11-20T02:00:00Z',
    closed_at: null,
    ...over,
  }
}

function detail(over: Partial<CaseDetail> = {}): CaseDetail {
  return {
    ...item(7),
    loan: {
      id: 70,
      contract_no: 'HT202601070001',
      product: '个人消费贷',
      principal: '100000.00',
      outstanding_principal: '92000.00',
      status: 'overdue',
      days_past_due: 5,
      bucket: 'M1',
      overdue_since: '2026-11-23',
      maturity_date: '2027-11-10',
      periods: 12,
    },
    owed: { on: '2026-11-28', principal: '8000.00', interest: '1000.00', fee: '0.00', penalty: '12.34', total: '9012.34', installments: [] },
    actions: [
      {
        id: 1,
        case_id: 7,
        kind: 'system',
        result: '',
        event: 'opened',
        text: '开案(M1,逾期 1 天),分配给 周催收',
        note: '',
        at: '2026-11-20T02:00:00Z',
        by: null,
      },
    ],
    promises: [],
    can_manage: false,
    can_work: true,
    ...over,
  }
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

describe('collections helpers', () => {
  it('checks promise amounts and dates like the server', () => {
    expect(amountProblem('')).toBe('required')
    expect(amountProblem('0')).toBe('invalid')
    expect(amountProblem('-5')).toBe('invalid')
    expect(amountProblem('1.234')).toBe('invalid')
    expect(amountProblem('1e5')).toBe('invalid')
    expect(amountProblem('1000.5')).toBe('')
    expect(dateProblem('', '2026-11-28', 90)).toBe('required')
    expect(dateProblem('2026-11-27', '2026-11-28', 90)).toBe('past')
    expect(dateProblem('2026-11-28', '2026-11-28', 90)).toBe('')
    expect(dateProblem(addDays('2026-11-28', 91), '2026-11-28', 90)).toBe('far')
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02')
    expect(telHref('138 0013 8000')).toBe('tel:13800138000')
    expect(telHref('')).toBe('')
  })
})

describe('collector workbench', () => {
  it('lists today’s cases in the server’s order and calls through the audited reveal', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: collector },
      'GET /postloan/collections/cases': {
        body: {
          items: [item(3, { promise_due: true, status: 'promised', promise_date: '2026-11-28' }), item(5, { last_result: 'no_answer' })],
          count: 2,
          page: 1,
          page_size: 20,
        },
      },
      'POST /postloan/collections/cases/3/reveal-phone': { body: { field: 'phone', value: '13800138000' } },
    })
    const app = await mountApp('/collections')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.findAll('[data-testid^="case-card-"][role="button"]').length === 2)
    const cards = wrapper.findAll('[data-testid^="case-card-"][role="button"]')
    expect(cards.map((c) => c.attributes('data-testid'))).toEqual(['case-card-3', 'case-card-5'])
    const listCall = calls.find((c) => c.path === '/postloan/collections/cases')
    expect(listCall?.url.searchParams.get('view')).toBe('today')
    expect(cards[0]!.find('[data-testid="case-card-promise-due"]').text()).toBe('承诺到期')
    expect(cards[0]!.find('[data-testid="case-card-bucket"]').text()).toBe('M1 · 逾期 5 天')
    expect(cards[0]!.find('[data-testid="case-card-owed"]').text()).toBe('¥1,234.56')
    expect(cards[1]!.text()).toContain('上次结果:无人接听')
    expect(wrapper.find('[data-testid="workbench-due"]').text()).toBe('1 个承诺今日到期')
    // The list only has the masked phone; the call asks the server (audited) for the number.
    expect(cards[0]!.text()).toContain('138****0001')
    await wrapper.find('[data-testid="case-call-3"]').trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/postloan/collections/cases/3/reveal-phone')).toBe(true)
    expect(wrapper.find('[data-testid="case-card-tel"]').attributes('href')).toBe('tel:13800138000')
    // Tapping the card opens the case.
    await cards[1]!.trigger('click')
    await waitFor(() => app.router.currentRoute.value.path === '/collections/cases/5')
  })

  it('shows an empty state', async () => {
    mockFetch({
      'GET /auth/me': { body: collector },
      'GET /postloan/collections/cases': { body: { items: [], count: 0, page: 1, page_size: 20 } },
    })
    wrapper = (await mountApp('/collections')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="workbench-empty"]').exists())
    expect(wrapper.find('[data-testid="workbench-empty"]').text()).toContain('今天没有需要跟进的案件')
  })
})

describe('case page', () => {
  it('logs an action and records a promise with validation', async () => {
    let current = detail()
    const { calls } = mockFetch({
      'GET /auth/me': { body: collector },
      'GET /postloan/collections/cases/7': () => ({ body: current }),
      'POST /postloan/collections/cases/7/actions': (req) => {
        const body = req.body as { kind: string; result: string; note: string }
        current = {
          ...current,
          last_result: 'no_answer',
          actions: [
            { id: 2, case_id: 7, kind: 'call', result: 'no_answer', event: '', text: '', note: body.note, at: '2026-11-28T03:00:00Z', by: collector },
            ...current.actions,
          ],
        }
        return { status: 201, body: current.actions[0] }
      },
      'POST /postloan/collections/cases/7/promises': (req) => {
        const body = req.body as { date: string; amount: string }
        if (body.amount === '99999999') {
          return apiError(422, 'validation_error', '提交的数据有误', { fields: { amount: '承诺金额不能超过未还总额 92000.00 元' } })
        }
        const p = { id: 5, date: body.date, amount: '500.00', paid: '0.00', status: 'pending' as const, created_on: '2026-11-28', decided_on: null, note: '' }
        current = { ...current, status: 'promised', promises: [p] }
        return { status: 201, body: p }
      },
    })
    const app = await mountApp('/collections/cases/7')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="case-head"]').exists())
    expect(wrapper.find('[data-testid="case-customer"]').text()).toBe('客户7')
    expect(wrapper.find('[data-testid="case-owed"]').text()).toContain('¥9,012.34')
    expect(wrapper.find('[data-testid="case-actions"]').text()).toContain('开案(M1,逾期 1 天)')
    expect(wrapper.find('[data-testid="case-reassign"]').exists()).toBe(false)

    // 记录催收: the result is required; nothing is sent without it.
    await wrapper.find('[data-testid="case-log-action"]').trigger('click')
    await settle()
    await wrapper.find('[data-testid="action-save"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="action-sheet"]').text()).toContain('请选择结果')
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    await wrapper.find('[data-testid="action-result-no_answer"]').trigger('click')
    await wrapper.find('[data-testid="action-note"] textarea').setValue('打了两次')
    await wrapper.find('[data-testid="action-save"]').trigger('click')
    await settle()
    const post = calls.find((c) => c.method === 'POST' && c.path.endsWith('/actions'))
    expect(post?.body).toEqual({ kind: 'call', result: 'no_answer', note: '打了两次' })
    await waitFor(() => wrapper!.find('[data-testid="case-action-2"]').exists())
    expect(wrapper.find('[data-testid="case-action-2"]').text()).toContain('电话 · 无人接听')

    // 承诺还款: the client refuses a bad amount, the server's field message is shown.
    await wrapper.find('[data-testid="case-promise"]').trigger('click')
    await settle()
    const amount = wrapper.find('[data-testid="promise-amount"] input')
    expect((wrapper.find('[data-testid="promise-date"]').element as HTMLInputElement).value).toBe('2026-12-01')
    await amount.setValue('1.234')
    await wrapper.find('[data-testid="promise-save"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="promise-sheet"]').text()).toContain('最多两位小数')
    expect(calls.filter((c) => c.path.endsWith('/promises'))).toHaveLength(0)
    await wrapper.find('[data-testid="promise-date"]').setValue('2026-11-20')
    await amount.setValue('500')
    await wrapper.find('[data-testid="promise-save"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="promise-sheet"]').text()).toContain('日期不能早于营业日 2026-11-28')
    await wrapper.find('[data-testid="promise-date"]').setValue('2026-12-02')
    await amount.setValue('99999999')
    await wrapper.find('[data-testid="promise-save"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="promise-sheet"]').text()).toContain('承诺金额不能超过未还总额')
    await amount.setValue('500')
    await wrapper.find('[data-testid="promise-save"]').trigger('click')
    await settle()
    const promisePost = calls.filter((c) => c.path.endsWith('/promises')).at(-1)
    expect(promisePost?.body).toEqual({ date: '2026-12-02', amount: '500', note: '' })
    await waitFor(() => wrapper!.find('[data-testid="case-promise-5"]').exists())
    expect(wrapper.find('[data-testid="case-promise-5"]').text()).toContain('待兑现')
    expect(wrapper.find('[data-testid="case-status"]').text()).toBe('已承诺')
  })

  it('says so when the case is not the user’s', async () => {
    mockFetch({
      'GET /auth/me': { body: collector },
      'GET /postloan/collections/cases/9': apiError(404, 'not_found', '记录不存在或无权访问'),
    })
    wrapper = (await mountApp('/collections/cases/9')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="case-not-found"]').exists())
    expect(wrapper.find('[data-testid="case-not-found"]').text()).toContain('案件不存在或无权查看')
  })
})

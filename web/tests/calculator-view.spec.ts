import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { MethodComparison, PayoffQuote, ScheduleQuote, ScheduleRequest } from '@/api/types'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from './helpers'
import { mountApp, settle, waitFor } from './mount'

// ECharts needs a real canvas: the page's chart talks to a recording fake instead.
const chart = vi.hoisted(() => ({
  inits: [] as HTMLElement[],
  options: [] as unknown[],
  disposed: 0,
  resized: 0,
}))
vi.mock('@/charts/echarts', () => ({
  loadEcharts: async () => ({
    init: (el: HTMLElement) => {
      chart.inits.push(el)
      return {
        setOption: (o: unknown) => chart.options.push(o),
        resize: () => (chart.resized += 1),
        dispose: () => (chart.disposed += 1),
      }
    },
  }),
}))

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
  Object.assign(chart, { inits: [], options: [], disposed: 0, resized: 0 })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

function quote(overrides: Partial<ScheduleQuote> = {}): ScheduleQuote {
  return {
    installment: '5307.27',
    rows: [
      {
        seq: 1,
        due_date: '2026-12-28',
        days: 30,
        opening_balance: '1000000.00',
        principal: '1223.94',
        interest: '4083.33',
        fee: '0.00',
        total: '5307.27',
        balance: '998776.06',
      },
      {
        seq: 2,
        due_date: '2027-01-28',
        days: 31,
        opening_balance: '998776.06',
        principal: '1228.94',
        interest: '4078.33',
        fee: '0.00',
        total: '5307.27',
        balance: '997547.12',
      },
    ],
    totals: { principal: '1000000.00', interest: '910616.19', fee: '0.00', total: '1910616.19' },
    apr: '4.90',
    monthly_rate: '0.41',
    effective_annual_rate: '5.01',
    warnings: [],
    cap: { line: 'judicial', rate: '12.00', exceeded: false, message: '' },
    ...overrides,
  }
}

const METHODS: MethodComparison[] = [
  ['equal_installment', '5307.27', '5307.27', '910616.19', '1910616.19', '4.90'],
  ['equal_principal', '6861.11', '2789.12', '737041.67', '1737041.67', '4.90'],
  ['interest_only', '4083.33', '1004083.33', '1470000.00', '2470000.00', '4.90'],
  ['bullet', '2470000.00', '2470000.00', '1470000.00', '2470000.00', '3.04'],
  ['flat', '7861.11', '7861.11', '1470000.00', '2470000.00', '8.71'],
].map(([method, first_total, last_total, total_interest, total, apr]) => ({
  method: method as MethodComparison['method'],
  installment: first_total!,
  first_total: first_total!,
  last_total: last_total!,
  total_interest: total_interest!,
  total: total!,
  apr: apr!,
}))

const PAYOFF: PayoffQuote = {
  as_of: '2027-01-10',
  principal: '998776.06',
  interest: '1753.54',
  fee: '0.00',
  penalty: '0.00',
  prepayment_fee: '9987.76',
  total: '1010517.36',
}

function routes(
  schedule: (req: MockRequest) => { status?: number; body?: unknown } = () => ({ body: quote() }),
  language = 'zh-CN',
) {
  return mockFetch({
    'GET /auth/me': { body: makeMe({ business_date: '2026-11-28', language }) },
    'POST /calculator/schedule': schedule,
    'POST /calculator/compare': { body: { methods: METHODS } },
    'POST /calculator/payoff-quote': (req) => ({ body: { ...PAYOFF, as_of: (req.body as { as_of: string }).as_of } }),
  })
}

const posts = (calls: MockRequest[], path: string) => calls.filter((c) => c.method === 'POST' && c.path === path)
const input = (id: string) => wrapper!.find<HTMLInputElement>(`input[data-testid="${id}"]`)
const fieldOf = (id: string) => input(id).element.closest('.van-field') as HTMLElement

async function open(handlers = routes()) {
  const app = await mountApp('/calculator')
  wrapper = app.wrapper
  await waitFor(() => posts(handlers.calls, '/calculator/compare').length > 0)
  await settle()
  return handlers
}

async function submit(): Promise<void> {
  await wrapper!.find('[data-testid="calculator-form"]').trigger('submit')
  await settle()
}

describe('CalculatorView', () => {
  it('asks the server on open: money as strings, the business date as start, no empty optionals', async () => {
    const { calls } = await open()
    const [first] = posts(calls, '/calculator/schedule')
    expect(first!.headers.get('X-CSRFToken')).toBe('tok')
    expect(first!.body).toEqual({
      principal: '100000',
      annual_rate: '12',
      periods: 12,
      method: 'equal_installment',
      start: '2026-11-28',
      frequency: 'monthly',
      interest_period: 'period',
      installment_multiple: '0.01',
      holiday_shift: false,
      cap_line: 'judicial',
    })
    // Compare: the same terms without the method.
    const { method: _m, ...terms } = first!.body as ScheduleRequest
    expect(posts(calls, '/calculator/compare')[0]!.body).toEqual(terms)
  })

  it('sends what the user typed as decimal strings and includes optionals once filled', async () => {
    const { calls } = await open()
    await input('calculator-amount').setValue('1000000.5')
    await input('calculator-rate').setValue('4.9')
    await input('calculator-term').setValue('360')
    await input('calculator-upfront-fee').setValue('200')
    await input('calculator-period-fee').setValue('0.3')
    await input('calculator-grace').setValue('2')
    await input('calculator-due-day').setValue('15')
    await submit()
    const body = posts(calls, '/calculator/schedule').at(-1)!.body as Record<string, unknown>
    expect(body).toMatchObject({
      principal: '1000000.5',
      annual_rate: '4.9',
      periods: 360,
      upfront_fee: '200',
      period_fee: '0.3',
      period_fee_kind: 'fixed',
      grace_periods: 2,
      due_day: 15,
    })
    expect(typeof body.principal).toBe('string')
    expect(typeof body.annual_rate).toBe('string')
    expect(body).not.toHaveProperty('first_due')
    expect(body).not.toHaveProperty('day_count')
    // The terms changed, so the comparison was fetched again for them.
    expect(posts(calls, '/calculator/compare').at(-1)!.body).toMatchObject({ principal: '1000000.5', periods: 360 })
  })

  it('picks a choice from a sheet and sends the fields it brings in', async () => {
    const { calls } = await open()
    expect(wrapper!.find('[data-testid="calculator-day-count"]').exists()).toBe(false)
    await wrapper!.find('[data-testid="calculator-more"]').trigger('click')
    await wrapper!.find('[data-testid="calculator-interest-period"]').trigger('click')
    await settle()
    const item = [...document.querySelectorAll<HTMLElement>('.van-action-sheet__item')].find((b) =>
      b.textContent?.includes('按日（实际天数计息）'),
    )
    item!.click()
    await settle()
    expect(wrapper!.find('[data-testid="calculator-interest-period"] input').element).toHaveProperty(
      'value',
      '按日（实际天数计息）',
    )
    expect(wrapper!.find('[data-testid="calculator-day-count"]').exists()).toBe(true)
    await submit()
    expect(posts(calls, '/calculator/schedule').at(-1)!.body).toMatchObject({ interest_period: 'daily', day_count: 'act/365' })
  })

  it('shows the summary, the schedule with totals and draws the chart', async () => {
    await open()
    const result = wrapper!.find('[data-testid="calculator-result"]').text()
    expect(result).toContain('每期还款')
    expect(result).toContain('¥5,307.27')
    expect(result).toContain('¥910,616.19')
    expect(result).toContain('¥1,910,616.19')
    expect(result).toContain('4.90%')
    expect(result).toContain('上限 12.00% · 司法保护上限（4 倍 LPR）')
    const row1 = wrapper!.find('[data-testid="calculator-row-1"]').text()
    expect(row1).toContain('2026-12-28')
    expect(row1).toContain('1,223.94')
    expect(row1).toContain('4,083.33')
    expect(row1).toContain('998,776.06')
    expect(wrapper!.find('[data-testid="calculator-totals"]').text()).toContain('1,910,616.19')
    // No fee column when nothing is charged.
    expect(wrapper!.find('[data-testid="calculator-schedule"] th:nth-child(5)').text()).toBe('合计')
    expect(wrapper!.find('[data-testid="calculator-cap-warning"]').exists()).toBe(false)
    expect(wrapper!.find('[data-testid="calculator-warnings"]').exists()).toBe(false)

    await waitFor(() => chart.options.length > 0)
    expect(chart.inits[0]!.getAttribute('data-testid')).toBe('calculator-chart')
    const option = chart.options.at(-1) as { series: { type: string; data: number[] }[] }
    expect(option.series.map((s) => s.type)).toEqual(['bar', 'bar', 'line'])
    expect(option.series[1]!.data).toEqual([4083.33, 4078.33])
    window.dispatchEvent(new Event('resize'))
    expect(chart.resized).toBe(1)
    wrapper!.unmount()
    wrapper = undefined
    expect(chart.disposed).toBe(1)
  })

  it('labels the first installment for methods without a constant one', async () => {
    const { calls } = await open(
      routes((req) => {
        const method = (req.body as ScheduleRequest).method
        return method === 'equal_principal'
          ? { body: quote({ installment: '6861.11', rows: quote().rows.map((r) => ({ ...r, total: '6861.11' })) }) }
          : { body: quote() }
      }),
    )
    await wrapper!.find('[data-testid="calculator-method-equal_principal"]').trigger('click')
    await settle()
    expect(posts(calls, '/calculator/schedule').at(-1)!.body).toMatchObject({ method: 'equal_principal' })
    const result = wrapper!.find('[data-testid="calculator-result"]').text()
    expect(result).toContain('首期还款 · 等额本金')
    expect(result).toContain('¥6,861.11')
  })

  it('shows each 422 field message under its field', async () => {
    let n = 0
    await open(
      routes(() =>
        n++ === 0
          ? { body: quote() }
          : apiError(422, 'validation_error', '输入有误', {
              fields: { principal: '贷款金额须大于 0 且不超过 100 亿元', periods: '期数须在 1 到 600 之间' },
            }),
      ),
    )
    await input('calculator-amount').setValue('0')
    await submit()
    expect(fieldOf('calculator-amount').querySelector('.van-field__error-message')?.textContent).toBe(
      '贷款金额须大于 0 且不超过 100 亿元',
    )
    expect(fieldOf('calculator-term').querySelector('.van-field__error-message')?.textContent).toBe('期数须在 1 到 600 之间')
    expect(fieldOf('calculator-rate').querySelector('.van-field__error-message')).toBeNull()
    // The messages sit under the fields: no toast repeats the summary.
    expect(document.body.textContent).not.toContain('输入有误')
    // Typing again clears that field's message.
    await input('calculator-amount').setValue('5000')
    expect(fieldOf('calculator-amount').querySelector('.van-field__error-message')).toBeNull()
  })

  it('toasts an error that no field on the page can show', async () => {
    let n = 0
    await open(
      routes(() =>
        n++ === 0
          ? { body: quote() }
          : apiError(422, 'validation_error', '利率上限设置无效', { fields: { lpr: '未配置 LPR' } }),
      ),
    )
    await submit()
    await waitFor(() => document.body.textContent!.includes('利率上限设置无效'))
    expect(wrapper!.findAll('.van-field__error-message')).toHaveLength(0)
  })

  it('shows a red cap warning when the APR is above the cap, and other warnings as a notice', async () => {
    await open(
      routes(() => ({
        body: quote({
          apr: '36.50',
          cap: { line: 'judicial', rate: '12.00', exceeded: true, message: '年化利率 36.50% 超过上限 12.00%' },
          warnings: [{ code: 'finance.calendar_year_not_covered', message: '2027 年节假日未设置，仅按周末顺延' }],
        }),
      })),
    )
    const warning = wrapper!.find('[data-testid="calculator-cap-warning"]')
    expect(warning.exists()).toBe(true)
    expect(warning.attributes('role')).toBe('alert')
    expect(warning.text()).toContain('超过利率上限')
    expect(warning.text()).toContain('年化利率 36.50% 超过上限 12.00%')
    expect(wrapper!.find('[data-testid="calculator-warnings"]').text()).toContain('2027 年节假日未设置')
  })

  it('compares the five methods and switches the result to the tapped one', async () => {
    const { calls } = await open()
    const rows = wrapper!.findAll('[data-testid="calculator-compare"] tbody tr')
    expect(rows).toHaveLength(5)
    expect(rows.map((r) => r.find('td').text())).toEqual(['等额本息', '等额本金', '先息后本', '一次性还本付息', '等本等息'])
    expect(rows[1]!.text()).toContain('6,861.11')
    expect(rows[1]!.text()).toContain('737,041.67')
    expect(rows[0]!.classes()).toContain('calc-compare--active')

    await wrapper!.find('[data-testid="calculator-compare-interest_only"]').trigger('click')
    await settle()
    expect(posts(calls, '/calculator/schedule').at(-1)!.body).toMatchObject({ method: 'interest_only' })
    // Same terms: the comparison is not fetched again.
    expect(posts(calls, '/calculator/compare')).toHaveLength(1)
    expect(wrapper!.find('[data-testid="calculator-method-interest_only"] .van-radio__icon--checked').exists()).toBe(true)
    expect(wrapper!.find('[data-testid="calculator-compare-interest_only"]').classes()).toContain('calc-compare--active')
  })

  it('quotes an early payoff for a picked date', async () => {
    const { calls } = await open()
    await wrapper!.find('[data-testid="calculator-payoff-submit"]').trigger('click')
    await settle()
    expect(wrapper!.text()).toContain('请先选择还清日期')
    expect(posts(calls, '/calculator/payoff-quote')).toHaveLength(0)

    await input('calculator-prepayment-fee').setValue('1')
    await wrapper!.find('[data-testid="calculator-payoff-date"]').trigger('click')
    await settle()
    // The calendar opens on the business date's month; days before the loan starts are disabled.
    const days = [...document.querySelectorAll<HTMLElement>('.van-calendar__day')]
    expect(days.find((d) => d.textContent?.trim() === '28')!.classList).toContain('van-calendar__day--disabled')
    const day = days.find((d) => d.textContent?.trim() === '30')
    expect(day).toBeTruthy()
    day!.click()
    await settle()
    ;[...document.querySelectorAll<HTMLElement>('.van-calendar__confirm')].at(-1)!.click()
    await settle()
    const sent = posts(calls, '/calculator/payoff-quote').at(-1)!.body as Record<string, unknown>
    expect(sent).toMatchObject({ principal: '100000', method: 'equal_installment', prepayment_fee_percent: '1' })
    expect(sent.as_of).toBe('2026-11-30')
    const payoff = wrapper!.find('[data-testid="calculator-payoff"]').text()
    expect(payoff).toContain('¥998,776.06')
    expect(payoff).toContain('¥9,987.76')
    expect(payoff).toContain('¥1,010,517.36')
  })

  it('renders in English', async () => {
    await open(routes(undefined, 'en-US'))
    expect(wrapper!.find('[data-testid="calculator-result"]').text()).toContain('Installment · Equal installment')
    expect(wrapper!.find('[data-testid="calculator-compare"]').text()).toContain('Bullet')
    setLocale('zh-CN')
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import {
  buildDisburseRequest,
  createKeyKeeper,
  emptyDisburseForm,
  newIdempotencyKey,
  termsKey,
  type Loan,
  type Product,
  type ProductQuote,
} from '@/api/lending'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest, type MockResponse } from './helpers'
import { mountApp, settle, waitFor } from './mount'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let wrapper: VueWrapper | undefined

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
})

const CONSUMER: Product = {
  id: 1,
  code: 'consumer',
  name: '个人消费贷',
  method: 'equal_installment',
  frequency: 'monthly',
  interest_period: 'period',
  day_count: 'act/365',
  min_amount: '10000.00',
  max_amount: '200000.00',
  min_periods: 3,
  max_periods: 36,
  min_rate: '7.20',
  max_rate: '18.00',
  installment_multiple: '0.01',
  holiday_shift: false,
  penalty_rate_multiplier: '1.50',
  grace_days: 3,
  compound_penalty: false,
  allocation_order: ['penalty', 'fee', 'interest', 'principal'],
  allocation_strategy: 'installment_first',
  overpayment: 'credit',
  upfront_fee_percent: '0.00',
  period_fee_kind: 'fixed',
  period_fee: '0.00',
  prepayment_fee_percent: '0.00',
  cap_line: '24',
  cap_policy: 'refuse',
  cap_rate: '24.00',
  active: true,
  updated_at: '2026-11-28T00:00:00Z',
}
const SME: Product = { ...CONSUMER, id: 2, code: 'sme_operating', name: '小微经营贷', method: 'equal_principal' }

function quote(overrides: Partial<ProductQuote> = {}): ProductQuote {
  const row = (seq: number, due: string) => ({
    seq,
    due_date: due,
    days: 30,
    opening_balance: '100000.00',
    principal: '50000.00',
    interest: '1000.00',
    fee: '0.00',
    total: '51000.00',
    balance: seq === 1 ? '50000.00' : '0.00',
  })
  return {
    installment: '51000.00',
    rows: [row(1, '2026-12-28'), row(2, '2027-01-28')],
    totals: { principal: '100000.00', interest: '2000.00', fee: '0.00', total: '102000.00' },
    apr: '12.00',
    monthly_rate: '1.00',
    effective_annual_rate: '12.68',
    warnings: [],
    cap: { line: '24', rate: '24.00', exceeded: false, message: '', policy: 'refuse' },
    upfront_fee: '0.00',
    net_amount: '100000.00',
    start: '2026-11-28',
    ...overrides,
  }
}

const LOAN = { id: 55, contract_no: 'HT202611280001' } as Loan

function routes(disburse: (req: MockRequest) => MockResponse | Promise<MockResponse> = () => ({ status: 201, body: LOAN })) {
  return mockFetch({
    'GET /auth/me': {
      body: makeMe({
        username: 'finance',
        permissions: ['lending.disburse', 'lending.view_loans', 'customers.view'],
        business_date: '2026-11-28',
      }),
    },
    'GET /customers/7': { body: { id: 7, name: '张伟', kind: 'individual', status: 'active', phone: '138****0001' } },
    'GET /lending/products': { body: [CONSUMER, SME] },
    'POST /lending/products/1/quote': { body: quote() },
    'POST /lending/products/2/quote': {
      body: quote({
        cap: { line: 'judicial', rate: '12.00', exceeded: true, message: '年化利率 15.00% 超过上限 12.00%', policy: 'flag' },
      }),
    },
    'POST /lending/disbursements': disburse,
    'GET /lending/loans/55': { status: 404, body: { code: 'not_found', message: '记录不存在', details: {} } },
  })
}

const posts = (calls: MockRequest[], path: string) => calls.filter((c) => c.method === 'POST' && c.path === path)
const input = (id: string) => wrapper!.find<HTMLInputElement>(`input[data-testid="${id}"]`)
const button = (id: string) => wrapper!.find<HTMLButtonElement>(`[data-testid="${id}"]`)

async function open(handlers = routes()) {
  const app = await mountApp('/lending/disburse?customer=7')
  wrapper = app.wrapper
  await waitFor(() => wrapper!.find('[data-testid="disburse-product-consumer"]').exists())
  await settle()
  return { ...handlers, router: app.router }
}

async function fillAndQuote(product = 'consumer'): Promise<void> {
  await button(`disburse-product-${product}`).trigger('click')
  await input('disburse-amount').setValue('100000')
  await input('disburse-periods').setValue('12')
  await input('disburse-rate').setValue('12')
  await wrapper!.find('[data-testid="disburse-form"]').trigger('submit')
  await settle()
}

async function fillAccount(): Promise<void> {
  await input('disburse-account-number').setValue('6222 0202 0011 2233 445')
  await input('disburse-bank-name').setValue('工商银行')
  await settle()
}

describe('DisburseView', () => {
  it('shows the customer, quotes the chosen product, then sends the whole request once', async () => {
    const { calls, router } = await open()
    expect(wrapper!.find('[data-testid="disburse-customer"]').text()).toContain('张伟')
    expect(button('disburse-confirm').exists()).toBe(false) // nothing to confirm before a quote

    await fillAndQuote()
    expect(posts(calls, '/lending/products/1/quote')[0]!.body).toEqual({
      amount: '100000',
      periods: 12,
      annual_rate: '12',
      start: '2026-11-28',
    })
    expect(wrapper!.find('[data-testid="disburse-apr"]').text()).toBe('12.00%')
    expect(wrapper!.find('[data-testid="disburse-schedule-row-2"]').text()).toContain('50,000.00')
    expect(wrapper!.find('[data-testid="disburse-schedule-totals"]').text()).toContain('100,000.00')
    expect(wrapper!.find('[data-testid="disburse-cap-warning"]').exists()).toBe(false)
    // The account name is the customer's name; the number is still missing.
    expect(input('disburse-account-name').element.value).toBe('张伟')
    expect(button('disburse-confirm').attributes('disabled')).toBeDefined()

    await fillAccount()
    expect(button('disburse-confirm').attributes('disabled')).toBeUndefined()
    expect(button('disburse-confirm').text()).toBe('确认放款 ¥100,000.00')
    await button('disburse-confirm').trigger('click')
    await settle()

    const [sent] = posts(calls, '/lending/disbursements')
    const body = sent!.body as Record<string, unknown>
    expect(body).toEqual({
      customer_id: 7,
      product_id: 1,
      amount: '100000',
      periods: 12,
      annual_rate: '12',
      start: '2026-11-28',
      account_name: '张伟',
      account_number: '6222020200112233445',
      bank_name: '工商银行',
      idempotency_key: expect.stringMatching(UUID),
    })
    expect(typeof body.amount).toBe('string')
    expect(sent!.headers.get('X-CSRFToken')).toBe('tok')
    await waitFor(() => router.currentRoute.value.path === '/loans/55')
  })

  it('retries with the same idempotency key, and new terms get a new key', async () => {
    let attempt = 0
    const { calls } = await open(
      routes(() => {
        attempt += 1
        if (attempt === 1) throw new TypeError('Failed to fetch') // the answer was lost
        if (attempt === 2) return apiError(502, 'http_502', 'Bad gateway')
        return { status: 200, body: LOAN }
      }),
    )
    await fillAndQuote()
    await fillAccount()
    await button('disburse-confirm').trigger('click')
    await settle()
    await button('disburse-confirm').trigger('click')
    await settle()
    const [first, second] = posts(calls, '/lending/disbursements')
    const key = (first!.body as { idempotency_key: string }).idempotency_key
    expect(key).toMatch(UUID)
    expect((second!.body as { idempotency_key: string }).idempotency_key).toBe(key)
    expect(second!.body).toEqual(first!.body)

    // Changed terms are a different request: quote again, and it travels under a new key.
    await input('disburse-amount').setValue('90000')
    await settle()
    expect(wrapper!.find('[data-testid="disburse-quote-stale"]').exists()).toBe(true)
    expect(button('disburse-confirm').attributes('disabled')).toBeDefined()
    await wrapper!.find('[data-testid="disburse-form"]').trigger('submit')
    await settle()
    await button('disburse-confirm').trigger('click')
    await settle()
    const third = posts(calls, '/lending/disbursements')[2]!
    expect(third.body).toMatchObject({ amount: '90000' })
    expect((third.body as { idempotency_key: string }).idempotency_key).not.toBe(key)
  })

  it('a double tap sends one request: the button is disabled while submitting', async () => {
    let release: (value: MockResponse) => void = () => {}
    const { calls } = await open(routes(() => new Promise<MockResponse>((resolve) => (release = resolve))))
    await fillAndQuote()
    await fillAccount()
    const confirm = button('disburse-confirm')
    await confirm.trigger('click')
    await confirm.trigger('click')
    await settle()
    expect(confirm.attributes('disabled')).toBeDefined()
    expect(confirm.classes()).toContain('van-button--loading')
    await confirm.trigger('click')
    expect(posts(calls, '/lending/disbursements')).toHaveLength(1)
    release({ status: 201, body: LOAN })
    await settle()
    expect(posts(calls, '/lending/disbursements')).toHaveLength(1)
  })

  it('shows the cap warning of a flag-policy product and field errors from the server', async () => {
    const { calls } = await open(
      routes(() =>
        apiError(422, 'validation_error', '提交的数据有误', {
          fields: { account_number: '收款账号应为 8–30 位数字' },
        }),
      ),
    )
    await fillAndQuote('sme_operating')
    expect(wrapper!.find('[data-testid="disburse-cap-warning"]').text()).toContain('年化利率 15.00% 超过上限 12.00%')
    await fillAccount()
    await button('disburse-confirm').trigger('click')
    await settle()
    expect(posts(calls, '/lending/disbursements')).toHaveLength(1)
    const field = input('disburse-account-number').element.closest('.van-field')!
    expect(field.textContent).toContain('收款账号应为 8–30 位数字')
  })
})

describe('idempotency helpers', () => {
  it('keeps one key per set of terms', () => {
    let n = 0
    const keeper = createKeyKeeper(() => `key-${++n}`)
    expect(keeper.keyFor('a')).toBe('key-1')
    expect(keeper.keyFor('a')).toBe('key-1')
    expect(keeper.keyFor('b')).toBe('key-2')
    expect(keeper.keyFor('a')).toBe('key-3')
  })

  it('builds the request from the form, without floats', () => {
    const form = {
      ...emptyDisburseForm('2026-11-28', 7),
      product_id: 1,
      amount: '100,000.50',
      periods: '12',
      annual_rate: ' 12.5',
      account_name: ' 张伟 ',
      account_number: '6222-0202-0011',
    }
    expect(buildDisburseRequest(form, 'k')).toEqual({
      customer_id: 7,
      product_id: 1,
      amount: '100000.50',
      periods: 12,
      annual_rate: '12.5',
      start: '2026-11-28',
      account_name: '张伟',
      account_number: '622202020011',
      bank_name: '',
      idempotency_key: 'k',
    })
    expect(termsKey(form)).toBe(termsKey({ ...form }))
    expect(termsKey(form)).not.toBe(termsKey({ ...form, account_number: '622202020012' }))
  })

  it('generates v4 UUIDs, also without crypto.randomUUID', () => {
    expect(newIdempotencyKey()).toMatch(UUID)
    const original = globalThis.crypto.randomUUID
    try {
      Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true })
      const a = newIdempotencyKey()
      expect(a).toMatch(UUID)
      expect(newIdempotencyKey()).not.toBe(a)
    } finally {
      Object.defineProperty(globalThis.crypto, 'randomUUID', { value: original, configurable: true })
    }
  })
})

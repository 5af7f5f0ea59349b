import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { cleanAmount, createSubmission, type Repayment } from '@/api/repayments'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie, type MockRequest, type MockResponse } from './helpers'
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

const totals = { principal: '1000.00', interest: '10.00', fee: '0.00', penalty: '0.00', total: '1010.00', paid: '0.00', outstanding: '1010.00' }
const LOAN = {
  id: 55,
  contract_no: 'HT202611280001',
  status: 'overdue',
  customer: { id: 7, name: '张伟' },
  product: { id: 1, code: 'consumer', name: '个人消费贷' },
  owner: { id: 2, username: 'officer1', full_name: '王小明' },
  principal: '1000.00',
  annual_rate: '12',
  apr: '12.00',
  periods: 1,
  method: 'bullet',
  start_date: '2026-10-01',
  maturity_date: '2026-11-01',
  outstanding_principal: '1000.00',
  days_past_due: 27,
  bucket: 'M1',
  disbursed_at: '2026-10-01T00:00:00Z',
  next_due: { seq: 1, due_date: '2026-11-01', amount: '1010.00' },
  department: null,
  frequency: 'monthly',
  first_due_date: '2026-11-01',
  cap_rate: '24.00',
  cap_exceeded: false,
  penalty_rate: '18',
  grace_days: 3,
  classification: 'special_mention',
  overdue_since: '2026-11-01',
  installments: [
    { seq: 1, due_date: '2026-11-01', days: 31, opening_principal: '1000.00', principal: '1000.00', interest: '10.00', fee: '0.00', penalty: '0.00', total: '1010.00', paid: '0.00', outstanding: '1010.00', status: 'overdue' },
  ],
  totals,
  disbursement: null,
  created_by: null,
}

function repayment(over: Partial<Repayment> = {}): Repayment {
  return {
    id: 9,
    loan_id: 55,
    contract_no: LOAN.contract_no,
    customer: { id: 7, name: '张伟' },
    kind: 'repayment',
    prepayment_mode: '',
    amount: '1023.45',
    value_date: '2026-11-28',
    channel: 'wechat',
    reference: 'WX1',
    source: 'manual',
    principal: '1000.00',
    interest: '10.00',
    fee: '0.00',
    penalty: '13.45',
    credit: '0.00',
    status: 'posted',
    created_by: null,
    created_at: '2026-11-28T02:00:00Z',
    reversed_by: null,
    reversed_at: null,
    reversed_on: null,
    reversal_reason: '',
    replayed: false,
    allocations: [
      { seq: 1, due_date: '2026-11-01', principal: '1000.00', interest: '10.00', fee: '0.00', penalty: '13.45', total: '1023.45' },
    ],
    ...over,
  }
}

function routes(post: (req: MockRequest) => MockResponse | Promise<MockResponse>) {
  return mockFetch({
    'GET /auth/me': {
      body: makeMe({
        username: 'finance',
        permissions: ['lending.view_loans', 'lending.post_repayment', 'lending.reverse_repayment', 'customers.view'],
        business_date: '2026-11-28',
      }),
    },
    'GET /lending/loans/55': { body: LOAN },
    'GET /lending/loans/55/repayments': { body: { items: [], credit: '0.00' } },
    'GET /postloan/loans/55/owed-today': {
      body: { on: '2026-11-28', principal: '1000.00', interest: '10.00', fee: '0.00', penalty: '13.45', total: '1023.45', installments: [] },
    },
    'POST /lending/loans/55/repayments': post,
  })
}

const el = (id: string) => wrapper!.find(`[data-testid="${id}"]`)
const input = (id: string) => wrapper!.find<HTMLInputElement>(`[data-testid="${id}"] input`)

async function openForm(handlers: ReturnType<typeof routes>) {
  const app = await mountApp('/loans/55')
  wrapper = app.wrapper
  await waitFor(() => el('loan-repay').exists())
  await el('loan-repay').trigger('click')
  await settle()
  await waitFor(() => input('repay-amount').exists() && input('repay-amount').element.value !== '')
  return handlers
}

describe('repayment form on the loan page', () => {
  it('prefills what is owed today, posts once with a UUID key and shows the allocation', async () => {
    const { calls } = await openForm(routes(() => ({ status: 201, body: repayment() })))
    expect(input('repay-amount').element.value).toBe('1023.45')
    expect(el('repay-owed').text()).toContain('1,023.45')
    await el('repay-channel-wechat').trigger('click')
    await input('repay-reference').setValue('WX1')
    // A double tap: the second click lands while the first request is in flight.
    await el('repay-submit').trigger('click')
    await el('repay-submit').trigger('click')
    await settle()
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts).toHaveLength(1)
    const body = posts[0]!.body as Record<string, string>
    expect(body).toMatchObject({ amount: '1023.45', value_date: '2026-11-28', channel: 'wechat', reference: 'WX1' })
    expect(body.idempotency_key).toMatch(UUID)
    await waitFor(() => el('repay-result').exists())
    expect(el('repay-allocation').text()).toContain('第 1 期')
    expect(el('repay-allocation').text()).toContain('罚息 ¥13.45')
  })

  it('retries a failed submission with the same key, and refuses a bad amount locally', async () => {
    let n = 0
    const { calls } = await openForm(
      routes(() => (++n === 1 ? { status: 503, body: { code: 'unavailable', message: '稍后再试', details: {} } } : { status: 201, body: repayment() })),
    )
    await input('repay-amount').setValue('12.345')
    await el('repay-submit').trigger('click')
    await settle()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    expect(el('repay-form').text()).toContain('最多两位小数')
    await input('repay-amount').setValue('1023.45')
    await el('repay-submit').trigger('click')
    await settle()
    await el('repay-submit').trigger('click')
    await settle()
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts).toHaveLength(2)
    const keys = posts.map((p) => (p.body as Record<string, string>).idempotency_key)
    expect(keys[0]).toBe(keys[1])
    await waitFor(() => el('repay-result').exists())
  })

  it('shows 422 field errors from the server', async () => {
    await openForm(
      routes(() => ({
        status: 422,
        body: { code: 'validation_error', message: '输入有误', details: { fields: { value_date: '入账日期不能晚于营业日 2026-11-28' } } },
      })),
    )
    await el('repay-submit').trigger('click')
    await settle()
    expect(el('repay-form').text()).toContain('入账日期不能晚于营业日')
  })
})

describe('helpers', () => {
  it('cleanAmount accepts yuan with up to two decimals above zero', () => {
    expect(cleanAmount('1,234.5')).toBe('1234.5')
    expect(cleanAmount(' 7 ')).toBe('7')
    expect(cleanAmount('0')).toBeNull()
    expect(cleanAmount('1.234')).toBeNull()
    expect(cleanAmount('-1')).toBeNull()
    expect(cleanAmount('abc')).toBeNull()
  })

  it('createSubmission keeps the key for the same body until done', () => {
    let n = 0
    const s = createSubmission(() => `k${++n}`)
    expect(s.keyFor({ a: 1 })).toBe('k1')
    expect(s.keyFor({ a: 1 })).toBe('k1')
    expect(s.keyFor({ a: 2 })).toBe('k2')
    s.done()
    expect(s.keyFor({ a: 2 })).toBe('k3')
  })
})

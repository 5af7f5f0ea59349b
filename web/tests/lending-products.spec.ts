import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Loan } from '@/api/lending'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from './helpers'
import { mountApp, settle, waitFor } from './mount'

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

const admin = makeMe({ username: 'admin', is_superuser: true, permissions: [] })
const input = (id: string) => wrapper!.find<HTMLInputElement>(`input[data-testid="${id}"]`)
const posts = (calls: MockRequest[], path: string) => calls.filter((c) => c.method === 'POST' && c.path === path)

describe('ProductEditView', () => {
  it('creates a product: periods as numbers, money and rates as strings, the order as arranged', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'POST /lending/products': (req) =>
        (req.body as { max_rate: string }).max_rate === '5'
          ? apiError(422, 'validation_error', '提交的数据有误', { fields: { max_rate: '不能小于下限 7.2' } })
          : { status: 201, body: { id: 9 } },
      'GET /lending/products': { body: [] },
    })
    const app = await mountApp('/manage/products/new')
    wrapper = app.wrapper
    await waitFor(() => input('product-code').exists())
    await input('product-code').setValue('car')
    await input('product-name').setValue('车主贷')
    await input('product-min_amount').setValue('10000')
    await input('product-max_amount').setValue('200000')
    await input('product-min_periods').setValue('3')
    await input('product-max_periods').setValue('36')
    await input('product-min_rate').setValue('7.2')
    await input('product-max_rate').setValue('5')
    // penalty after fee: move "罚息" one place down
    await wrapper.find('[data-testid="product-allocation-penalty"]').findAll('button')[1]!.trigger('click')
    await wrapper.find('[data-testid="product-form"]').trigger('submit')
    await settle()

    const [first] = posts(calls, '/lending/products')
    expect(first!.body).toMatchObject({
      code: 'car',
      name: '车主贷',
      method: 'equal_installment',
      min_amount: '10000',
      max_amount: '200000',
      min_periods: 3,
      max_periods: 36,
      min_rate: '7.2',
      max_rate: '5',
      installment_multiple: '0.01',
      penalty_rate_multiplier: '1.5',
      grace_days: 3,
      allocation_order: ['fee', 'penalty', 'interest', 'principal'],
      cap_line: 'judicial',
      cap_policy: 'refuse',
      active: true,
    })
    const field = input('product-max_rate').element.closest('.van-field')!
    expect(field.textContent).toContain('不能小于下限 7.2')

    await input('product-max_rate').setValue('18')
    await wrapper.find('[data-testid="product-form"]').trigger('submit')
    await settle()
    expect(posts(calls, '/lending/products')).toHaveLength(2)
    await waitFor(() => app.router.currentRoute.value.path === '/manage/products')
  })
})

describe('LoanDetailView', () => {
  it('shows the header and the installment schedule with statuses and totals', async () => {
    const installment = (seq: number, status: string) => ({
      seq,
      due_date: `2027-0${seq}-28`,
      days: 31,
      opening_principal: '100000.00',
      principal: '50000.00',
      interest: '500.00',
      fee: '0.00',
      penalty: '0.00',
      total: '50500.00',
      paid: status === 'paid' ? '50500.00' : '0.00',
      outstanding: status === 'paid' ? '0.00' : '50500.00',
      status,
    })
    const loan = {
      id: 5,
      contract_no: 'HT202611280007',
      status: 'active',
      customer: { id: 7, name: '张伟' },
      product: { id: 1, code: 'consumer', name: '个人消费贷' },
      owner: { id: 2, username: 'officer1', full_name: '王小明' },
      principal: '100000.00',
      annual_rate: '12.00',
      apr: '12.00',
      periods: 2,
      method: 'equal_principal',
      start_date: '2026-11-28',
      maturity_date: '2027-02-28',
      outstanding_principal: '50000.00',
      days_past_due: 0,
      bucket: 'M0',
      disbursed_at: '2026-11-28T02:00:00Z',
      next_due: { seq: 2, due_date: '2027-02-28', amount: '50500.00' },
      department: { id: 3, name: '北京一组' },
      frequency: 'monthly',
      first_due_date: '2027-01-28',
      cap_rate: '24.00',
      cap_exceeded: true,
      penalty_rate: '18.00',
      grace_days: 3,
      classification: 'normal',
      overdue_since: null,
      installments: [installment(1, 'paid'), installment(2, 'pending')],
      totals: {
        principal: '100000.00',
        interest: '1000.00',
        fee: '0.00',
        penalty: '0.00',
        total: '101000.00',
        paid: '50500.00',
        outstanding: '50500.00',
      },
      disbursement: null,
      created_by: null,
    } as unknown as Loan
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['lending.view_loans'] }) },
      'GET /lending/loans/5': { body: loan },
    })
    const app = await mountApp('/loans/5')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="loan-header"]').exists())
    const head = wrapper.find('[data-testid="loan-header"]').text()
    expect(head).toContain('HT202611280007')
    expect(head).toContain('¥100,000.00')
    expect(head).toContain('还款中')
    expect(wrapper.find('[data-testid="loan-cap-flag"]').text()).toContain('24.00%')
    expect(wrapper.find('[data-testid="loan-schedule-row-1"]').text()).toContain('已还清')
    expect(wrapper.find('[data-testid="loan-schedule-row-2"]').text()).toContain('未到期')
    expect(wrapper.find('[data-testid="loan-schedule-totals"]').text()).toContain('100,000.00')
    expect(wrapper.find('[data-testid="loan-next-due"]').text()).toContain('2027-02-28 · ¥50,500.00')
  })

  it('says so when the loan is out of reach', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['lending.view_loans'] }) },
      'GET /lending/loans/6': apiError(404, 'not_found', '记录不存在或无权访问'),
    })
    const app = await mountApp('/loans/6')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.text().includes('贷款不存在或无权查看'))
    await settle() // let Vant's nav-bar measure itself before the page is torn down
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Customer } from '@/api/customers'
import type { FormDetail, FormSchema } from '@/api/forms'
import type { LoanListItem } from '@/api/lending'
import { customChanges, customFieldErrors, customRows } from '@/components/customers/custom'
import { resetCustomerMeta } from '@/components/customers/meta'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  resetCustomerMeta()
  setLocale('zh-CN', { persist: false })
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

const schema: FormSchema = {
  fields: [
    {
      key: 'housing',
      type: 'select',
      label: '住房情况',
      label_en: 'Housing',
      options: [
        { value: 'own', label: '自有住房', label_en: 'Owned' },
        { value: 'rent', label: '租房', label_en: 'Rented' },
      ],
    },
    { key: 'work_years', type: 'number', label: '工作年限', label_en: 'Years in work', settings: { unit: '年' } },
  ],
} as unknown as FormSchema

const profileForm = {
  id: 1,
  code: 'customer_profile',
  name: '客户档案',
  description: '',
  kind: 'profile',
  is_active: true,
  version: 1,
  published_at: '2026-11-01T00:00:00Z',
  has_draft: false,
  updated_at: '2026-11-01T00:00:00Z',
  schema,
  modes: {},
} as FormDetail

const zhang = {
  id: 7,
  kind: 'individual',
  name: '张伟',
  status: 'active',
  phone: '138****0001',
  id_number: '110***********1234',
  uscc: '',
  gender: 'male',
  age: 36,
  birth_date: '1990-01-01',
  credit_level: 'A',
  source_channel: 'walk_in',
  owner: { id: 1, username: 'officer1', full_name: '王小明' },
  department: { id: 3, name: '北京一组' },
  tags: [],
  last_follow_up_at: null,
  next_follow_up_at: null,
  created_at: '2026-11-01T02:00:00Z',
  updated_at: '2026-11-01T02:00:00Z',
  pii_masked: true,
  legal_representative: '',
  industry: '',
  province_code: '',
  province_name: '',
  city_code: '',
  city_name: '',
  district_code: '',
  district_name: '',
  address: '',
  employer: '',
  monthly_income: null,
  marital_status: '',
  education: '',
  remark: '',
  custom: { housing: 'rent', work_years: 3 },
  bank_cards: [],
  merged_into: null,
  created_by: null,
  counts: { follow_ups: 0, documents: 0, applications: 0, loans: 1, repayments: 0, collections: 0 },
} as unknown as Customer

const loan = {
  id: 42,
  contract_no: 'LD202611280001',
  status: 'overdue',
  customer: { id: 7, name: '张伟' },
  product: { id: 2, name: '个人消费贷', code: 'consumer' },
  owner: null,
  principal: '100000.00',
  next_due: { seq: 3, due_date: '2026-12-20', amount: '8884.88' },
} as unknown as LoanListItem

describe('扩展信息 helpers', () => {
  it('sends only changed keys, a cleared one as null', () => {
    expect(customChanges({ housing: 'rent', work_years: 3 }, { housing: 'own', work_years: 3 })).toEqual({ housing: 'own' })
    expect(customChanges({ housing: 'rent' }, { housing: '' })).toEqual({ housing: null })
    expect(customChanges({ housing: null }, { housing: '' })).toEqual({})
  })

  it('maps custom.<key> 422 messages to the form field paths', () => {
    expect(customFieldErrors({ name: '必填', 'custom.work_years': '不能大于 60', 'custom.kids.0.name': '必填' })).toEqual({
      work_years: '不能大于 60',
      'kids.0.name': '必填',
    })
  })

  it('shows stored values with their labels', () => {
    expect(customRows(schema, { housing: 'rent', work_years: 3 })).toEqual([
      { key: 'housing', label: '住房情况', value: '租房' },
      { key: 'work_years', label: '工作年限', value: '3年' },
    ])
  })
})

describe('customer 360: 资料 and 贷款 tabs', () => {
  it('shows the 扩展信息 values read-only in the profile tab', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view'] }) },
      'GET /customers/7': { body: zhang },
      'GET /forms/customer_profile': { body: profileForm },
    })
    wrapper = (await mountApp('/customers/7')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="profile-custom"]').exists())
    expect(wrapper.find('[data-testid="profile-custom-housing"]').text()).toContain('住房情况')
    expect(wrapper.find('[data-testid="profile-custom-housing"]').text()).toContain('租房')
    expect(wrapper.find('[data-testid="profile-custom-work_years"]').text()).toContain('3年')
  })

  it('hides 扩展信息 when the form cannot be read (403)', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view'] }) },
      'GET /customers/7': { body: zhang },
      'GET /forms/customer_profile': apiError(403, 'permission_denied', '无权限'),
    })
    wrapper = (await mountApp('/customers/7')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="customer-profile"]').exists())
    await settle()
    expect(wrapper.find('[data-testid="profile-custom"]').exists()).toBe(false)
  })

  it('lists the customer loans and taps through to the loan page', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view', 'lending.view_loans'] }) },
      'GET /customers/7': { body: zhang },
      'GET /lending/loans': { body: { items: [loan], count: 1, page: 1, page_size: 100 } },
    })
    const app = await mountApp('/customers/7?tab=loans')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="customer-loan-42"]').exists())
    const row = wrapper.find('[data-testid="customer-loan-42"]')
    expect(row.text()).toContain('LD202611280001')
    expect(row.text()).toContain('个人消费贷')
    expect(row.text()).toContain('100,000.00')
    expect(row.text()).toContain('2026-12-20')
    expect(row.text()).toContain('8,884.88')
    expect(row.find('[data-testid="customer-loan-status-42"]').text()).toBe('逾期')
    expect(calls.find((c) => c.path === '/lending/loans')!.url.searchParams.get('customer_id')).toBe('7')
    await row.trigger('click')
    await waitFor(() => app.router.currentRoute.value.path === '/loans/42')
  })

  it('shows the empty state, without a toast, when lending answers 403', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view', 'lending.view_loans'] }) },
      'GET /customers/7': { body: zhang },
      'GET /lending/loans': apiError(403, 'permission_denied', '无权限'),
    })
    wrapper = (await mountApp('/customers/7?tab=loans')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="tab-empty-loans"]').exists())
    expect(wrapper.text()).toContain('暂无贷款')
    expect(document.body.querySelector('.van-toast--fail')).toBeNull()
  })
})

describe('customer edit: 扩展信息', () => {
  it('patches only the changed custom value and shows its 422 message', async () => {
    let attempt = 0
    const { calls } = mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view', 'customers.update'] }) },
      'GET /customers/7': { body: zhang },
      'GET /customers/meta': { body: {} },
      'GET /customers/tags': { body: [] },
      'GET /forms/customer_profile': { body: profileForm },
      'POST /forms/customer_profile/evaluate': { body: { values: {}, errors: {} } },
      'PATCH /customers/7': () =>
        ++attempt === 1
          ? apiError(422, 'validation_error', '输入有误', { fields: { 'custom.work_years': '不能大于 60' } })
          : { body: zhang },
    })
    wrapper = (await mountApp('/customers/7/edit')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="customer-custom"]').exists())
    await settle()
    const input = wrapper.find<HTMLInputElement>('[data-testid="field-work_years"]')
    expect(input.element.value).toBe('3')
    await input.setValue('61')
    await wrapper.find('[data-testid="customer-form"]').trigger('submit')
    await waitFor(() => calls.some((c) => c.method === 'PATCH'))
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(Object.keys(patch.body as object)).toEqual(['custom'])
    expect(Object.keys((patch.body as { custom: object }).custom)).toEqual(['work_years'])
    expect(Number((patch.body as { custom: { work_years: unknown } }).custom.work_years)).toBe(61)
    await waitFor(() => wrapper!.find('[data-testid="customer-custom"]').text().includes('不能大于 60'))
  })
})

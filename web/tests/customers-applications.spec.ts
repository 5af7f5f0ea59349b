import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Customer } from '@/api/customers'
import type { CustomerApplication } from '@/api/flows'
import { resetCustomerMeta } from '@/components/customers/meta'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, waitFor } from './mount'

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

const customer = {
  id: 7,
  kind: 'individual',
  name: '张伟',
  status: 'active',
  phone: '138****0001',
  id_number: '110***********1234',
  uscc: '',
  gender: 'male',
  age: 36,
  credit_level: 'A',
  owner: { id: 1, username: 'officer1', full_name: '王小明' },
  department: { id: 3, name: '北京一组' },
  tags: [],
  next_follow_up_at: null,
  pii_masked: true,
  custom: {},
  bank_cards: [],
  merged_into: null,
  created_by: null,
  counts: { follow_ups: 2, documents: 0, applications: 3, loans: 1, repayments: 120, collections: 0 },
} as unknown as Customer

function application(id: number, over: Partial<CustomerApplication>): CustomerApplication {
  return {
    instance_id: id,
    serial_no: `SQ20261206000${id}`,
    title: `张伟 · 个人消费贷 · ¥${id}0,000.00`,
    flow_name: '贷款审批',
    amount: `${id}0000.00`,
    product: '个人消费贷',
    status: 'running',
    status_label: '审批中',
    stage: 'running',
    stage_label: '审批中 · 风控审核',
    current_node: { id: 'risk_review', name: '风控审核' },
    loan: null,
    initiator: { id: 1, name: '王小明' },
    started_at: '2026-12-06T02:00:00Z',
    finished_at: null,
    ...over,
  }
}

const tabBadge = (w: VueWrapper, name: string): string | null => {
  const badge = w.find(`.tab-${name} .van-badge`)
  return badge.exists() ? badge.text() : null
}

describe('customer 360: 申请 tab and tab counts', () => {
  it('shows the counts of every listing tab as badges', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view'] }) },
      'GET /customers/7': { body: customer },
    })
    wrapper = (await mountApp('/customers/7')).wrapper
    await waitFor(() => wrapper!.find('.tab-applications .van-badge').exists())
    expect(tabBadge(wrapper, 'applications')).toBe('3')
    expect(tabBadge(wrapper, 'follow_ups')).toBe('2')
    expect(tabBadge(wrapper, 'loans')).toBe('1')
    expect(tabBadge(wrapper, 'repayments')).toBe('99+')
    expect(tabBadge(wrapper, 'collections')).toBeNull()
    expect(tabBadge(wrapper, 'documents')).toBeNull()
    expect(tabBadge(wrapper, 'profile')).toBeNull()
    expect(tabBadge(wrapper, 'timeline')).toBeNull()
  })

  it('lists the applications with their state and opens one', async () => {
    const rows = [
      application(3, {}),
      application(2, {
        status: 'approved',
        status_label: '已通过',
        stage: 'disbursed',
        stage_label: '已放款',
        current_node: null,
        loan: { id: 9, contract_no: 'LD1' },
        finished_at: '2026-12-06T03:00:00Z',
      }),
      application(1, { status: 'rejected', status_label: '已拒绝', stage: 'rejected', stage_label: '已拒绝', product: null }),
    ]
    const { calls } = mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view'] }) },
      'GET /customers/7': { body: customer },
      'GET /flows/customers/7/applications': { body: { items: rows, count: 3, page: 1, page_size: 20 } },
    })
    const app = await mountApp('/customers/7?tab=applications')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="customer-application-2"]').exists())
    const items = wrapper.findAll('[data-testid^="customer-application-"][role="button"]')
    expect(items.map((i) => i.attributes('data-testid'))).toEqual([
      'customer-application-3',
      'customer-application-2',
      'customer-application-1',
    ])
    const disbursed = wrapper.find('[data-testid="customer-application-2"]')
    expect(disbursed.text()).toContain('SQ202612060002')
    expect(disbursed.text()).toContain('个人消费贷')
    expect(disbursed.text()).toContain('20,000.00')
    expect(disbursed.text()).toContain('发起人 王小明')
    expect(disbursed.find('[data-testid="customer-application-stage-2"]').text()).toBe('已放款')
    expect(wrapper.find('[data-testid="customer-application-stage-3"]').text()).toBe('审批中 · 风控审核')
    // Without a product the flow's name stands in.
    expect(wrapper.find('[data-testid="customer-application-1"]').text()).toContain('贷款审批')
    const call = calls.find((c) => c.path === '/flows/customers/7/applications')!
    expect(call.url.searchParams.get('page')).toBe('1')
    await disbursed.trigger('click')
    await waitFor(() => app.router.currentRoute.value.path === '/approvals/2')
  })

  it('shows the empty state with 新建申请 when there are none', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view', 'forms.submit'] }) },
      'GET /customers/7': { body: { ...customer, counts: { ...customer.counts, applications: 0 } } },
      'GET /flows/customers/7/applications': { body: { items: [], count: 0, page: 1, page_size: 20 } },
    })
    const app = await mountApp('/customers/7?tab=applications')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="tab-empty-applications"]').exists())
    expect(wrapper.find('[data-testid="tab-empty-applications"]').text()).toContain('暂无申请')
    await wrapper.find('[data-testid="tab-empty-applications"] button').trigger('click')
    await waitFor(() => app.router.currentRoute.value.path === '/forms/loan_application/new')
  })
})

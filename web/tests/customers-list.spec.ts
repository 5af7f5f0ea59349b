import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { CustomerListItem } from '@/api/customers'
import { defaultFilters, filtersToQuery, listFilters } from '@/components/customers/filters'
import { resetCustomerMeta } from '@/components/customers/meta'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  resetCustomerMeta()
  Object.assign(listFilters, defaultFilters())
  setLocale('zh-CN', { persist: false })
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

describe('list filters → query', () => {
  it('我的 sends mine=true; 本部门 the user department; 全部 neither', () => {
    const f = defaultFilters()
    expect(filtersToQuery(f, 3)).toEqual({ mine: true })
    expect(filtersToQuery({ ...f, scope: 'department' }, 3)).toEqual({ department_id: 3 })
    expect(filtersToQuery({ ...f, scope: 'department' }, null)).toEqual({})
    expect(filtersToQuery({ ...f, scope: 'all' }, 3)).toEqual({})
  })

  it('adds keyword and chips', () => {
    const f = { keyword: ' zw ', scope: 'all' as const, creditLevel: 'watch', tagId: 4, kind: 'individual' as const }
    expect(filtersToQuery(f, 3)).toEqual({ q: 'zw', credit_level: 'watch', tag: 4, kind: 'individual' })
  })
})

const zhang: CustomerListItem = {
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
  source_channel: 'walk_in',
  owner: { id: 1, username: 'officer1', full_name: '王小明' },
  department: { id: 3, name: '北京一组' },
  tags: [{ id: 4, name: '优质客户', color: '#07c160' }],
  last_follow_up_at: null,
  next_follow_up_at: null,
  created_at: '2026-11-01T02:00:00Z',
  updated_at: '2026-11-01T02:00:00Z',
  pii_masked: true,
}

describe('customer list screen', () => {
  it('loads my customers, then follows scope and chip changes', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view', 'customers.create'] }) },
      'GET /customers/meta': {
        body: {
          credit_level: [
            { value: 'A', label: 'A' },
            { value: 'watch', label: '关注' },
          ],
          kind: [
            { value: 'individual', label: '个人' },
            { value: 'enterprise', label: '企业' },
          ],
        },
      },
      'GET /customers/tags': { body: [{ id: 4, name: '优质客户', color: '#07c160', customer_count: 1 }] },
      'GET /customers': { body: { items: [zhang], count: 1, page: 1, page_size: 20 } },
    })
    const app = await mountApp('/customers')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="customer-card-7"]').exists())
    const card = wrapper.find('[data-testid="customer-card-7"]')
    expect(card.text()).toContain('张伟')
    expect(card.text()).toContain('138****0001')
    expect(card.text()).toContain('优质客户')
    expect(card.text()).toContain('王小明')
    expect(card.find('[data-testid="credit-A"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="customers-create"]').exists()).toBe(true)

    const listCalls = () => calls.filter((c) => c.path === '/customers')
    expect(listCalls()[0]!.url.searchParams.get('mine')).toBe('true')

    await wrapper.find('[data-testid="customers-scope-department"]').trigger('click')
    await settle()
    let last = listCalls().at(-1)!.url.searchParams
    expect(last.get('department_id')).toBe('3')
    expect(last.has('mine')).toBe(false)

    await wrapper.find('[data-testid="customers-scope-all"]').trigger('click')
    await settle()
    last = listCalls().at(-1)!.url.searchParams
    expect(last.has('department_id')).toBe(false)
    expect(last.has('mine')).toBe(false)

    // Credit level chip → action sheet → 关注
    await wrapper.find('[data-testid="customers-chip-credit"]').trigger('click')
    await settle()
    const option = [...document.querySelectorAll('.van-action-sheet__item')].find((el) => el.textContent?.includes('关注'))
    expect(option).toBeTruthy()
    ;(option as HTMLElement).click()
    await settle()
    last = listCalls().at(-1)!.url.searchParams
    expect(last.get('credit_level')).toBe('watch')
    expect(wrapper.find('[data-testid="customers-chip-credit"]').classes()).toContain('is-active')
  })
})

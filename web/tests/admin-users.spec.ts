import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { AdminUser, Department, Role } from '@/api/types'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const departments: Department[] = [
  { id: 1, name: '总部', parent_id: null, head: null, path: '总部', user_count: 1 },
  { id: 2, name: '北京分公司', parent_id: 1, head: null, path: '总部 / 北京分公司', user_count: 0 },
  { id: 3, name: '北京一组', parent_id: 2, head: null, path: '总部 / 北京分公司 / 北京一组', user_count: 2 },
]
const roles: Role[] = [
  { id: 1, code: 'officer', name: '客户经理', data_scope: 'self', permissions: [], user_count: 2 },
  { id: 2, code: 'manager', name: '部门经理', data_scope: 'department_tree', permissions: [], user_count: 1 },
]
const user12: AdminUser = {
  id: 12,
  username: 'wang',
  full_name: '王小明',
  phone: '138****0001',
  email: '',
  department: { id: 3, name: '北京一组', path: '总部 / 北京分公司 / 北京一组' },
  roles: [{ id: 1, code: 'officer', name: '客户经理' }],
  is_active: true,
  last_login: null,
}
const admin = makeMe({ permissions: ['accounts.manage_users'] })

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

const field = (w: VueWrapper, id: string) => w.find(`input[data-testid="${id}"]`)

describe('admin users', () => {
  it('lists users page by page with search', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /accounts/departments': { body: departments },
      'GET /accounts/roles': { body: roles },
      'GET /accounts/users': (req) => ({
        body: { items: [{ ...user12, full_name: `用户${req.url.searchParams.get('q') ?? ''}` }], count: 1, page: 1, page_size: 20 },
      }),
    })
    const app = await mountApp('/manage/users')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="user-row-12"]').exists())
    expect(wrapper.find('[data-testid="user-row-12"]').text()).toContain('总部 / 北京分公司 / 北京一组')
    await wrapper.find('input[data-testid="users-search"]').setValue('wang')
    await new Promise((r) => setTimeout(r, 350))
    await settle()
    const searches = calls.filter((c) => c.path === '/accounts/users')
    expect(searches.at(-1)?.url.searchParams.get('q')).toBe('wang')
    expect(searches.at(-1)?.url.searchParams.get('page')).toBe('1')
    expect(wrapper.find('[data-testid="user-row-12"]').text()).toContain('用户wang')
  })

  it('edit PATCHes only changed fields (never the masked phone) and shows 422 field errors', async () => {
    let patches = 0
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /accounts/departments': { body: departments },
      'GET /accounts/roles': { body: roles },
      'GET /accounts/users/12': { body: user12 },
      'PATCH /accounts/users/12': () =>
        ++patches === 1
          ? apiError(422, 'validation_error', '输入有误', { fields: { email: '该邮箱已被使用' } })
          : { body: user12 },
      'GET /accounts/users': { body: { items: [], count: 0, page: 1, page_size: 20 } },
    })
    const app = await mountApp('/manage/users/12')
    wrapper = app.wrapper
    await waitFor(() => field(wrapper!, 'user-full-name').exists())
    expect((field(wrapper, 'user-username').element as HTMLInputElement).value).toBe('wang')
    expect((field(wrapper, 'user-department').element as HTMLInputElement).value).toBe('总部 / 北京分公司 / 北京一组')

    // Client-side rule first: no request for an obviously bad address.
    await field(wrapper, 'user-email').setValue('bad-email')
    await wrapper.find('[data-testid="user-save"]').trigger('click')
    await settle()
    expect(wrapper.text()).toContain('邮箱格式不正确')
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)

    await field(wrapper, 'user-email').setValue('taken@example.com')
    await wrapper.find('[data-testid="user-role-manager"]').trigger('click')
    await wrapper.find('[data-testid="user-save"]').trigger('click')
    await settle()

    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toEqual({ email: 'taken@example.com', role_ids: [1, 2] })
    expect(wrapper.text()).toContain('该邮箱已被使用')
    expect(app.router.currentRoute.value.name).toBe('admin-user-edit')

    await field(wrapper, 'user-email').setValue('wang@example.com')
    await wrapper.find('[data-testid="user-save"]').trigger('click')
    await waitFor(() => app.router.currentRoute.value.name === 'admin-users')
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(2)
  })

  it('create picks a department from the tree and sends role ids', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /accounts/departments': { body: departments },
      'GET /accounts/roles': { body: roles },
      'POST /accounts/users': { status: 201, body: { ...user12, id: 13 } },
      'GET /accounts/users': { body: { items: [], count: 0, page: 1, page_size: 20 } },
    })
    const app = await mountApp('/manage/users/new')
    wrapper = app.wrapper
    await waitFor(() => field(wrapper!, 'user-username').exists())
    await field(wrapper, 'user-username').setValue('li')
    await field(wrapper, 'user-full-name').setValue('李雷')
    await field(wrapper, 'user-password').setValue('Init-Pass-2026')
    await field(wrapper, 'user-department').trigger('click')
    await settle()
    const option = document.querySelector<HTMLElement>('[data-testid="department-option-2"]')
    expect(option?.getAttribute('style')).toContain('padding-left: 34px') // depth 1 indent
    option!.click()
    await settle()
    await wrapper.find('[data-testid="user-role-officer"]').trigger('click')
    await wrapper.find('[data-testid="user-save"]').trigger('click')
    await waitFor(() => app.router.currentRoute.value.name === 'admin-users')
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      username: 'li',
      full_name: '李雷',
      phone: '',
      email: '',
      department_id: 2,
      role_ids: [1],
      password: 'Init-Pass-2026',
    })
  })
})

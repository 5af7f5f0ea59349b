import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { http, resetCsrfState } from '@/api/client'
import { currentLocale, setLocale } from '@/i18n'
import { setupApi } from '@/setupApi'
import { useUserStore } from '@/stores/user'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  localStorage.clear()
  setLocale('zh-CN')
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  // Vant's toast/dialog singletons stay attached to <body> across tests on purpose.
})

const clickText = async (text: string) => {
  const el = [...document.querySelectorAll<HTMLElement>('button, .van-action-sheet__item')].find(
    (b) => b.textContent?.trim() === text,
  )
  if (!el) throw new Error(`no button "${text}"`)
  el.click()
  await settle()
}

describe('MeView', () => {
  it('shows the profile card and no admin section without admin permissions', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe() } })
    const app = await mountApp('/me')
    wrapper = app.wrapper
    const card = wrapper.find('[data-testid="profile-card"]').text()
    expect(card).toContain('王小明')
    expect(card).toContain('总部 / 北京分公司 / 北京一组')
    expect(card).toContain('客户经理')
    expect(wrapper.find('[data-testid="me-admin"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="tab-me"]').classes()).toContain('van-tabbar-item--active')
  })

  it('shows only the admin entries the user is allowed to use', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe({ permissions: ['accounts.manage_users', 'audit.view'] }) } })
    const app = await mountApp('/me')
    wrapper = app.wrapper
    expect(wrapper.find('[data-testid="me-admin-users"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="me-admin-audit"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="me-admin-departments"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="me-admin-roles"]').exists()).toBe(false)
  })

  it('switches the language immediately and saves it to the account', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: makeMe() },
      'PATCH /auth/me': { body: makeMe({ language: 'en-US' }) },
    })
    const app = await mountApp('/me')
    wrapper = app.wrapper
    await wrapper.find('[data-testid="me-language"]').trigger('click')
    await settle()
    await clickText('English')
    expect(currentLocale()).toBe('en-US')
    expect(wrapper.find('[data-testid="tab-customers"]').text()).toBe('Customers')
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ language: 'en-US' })
    expect(localStorage.getItem('loandesk.locale')).toBe('en-US')
  })

  it('logs out after confirmation and returns to /login', async () => {
    const { calls } = mockFetch({ 'GET /auth/me': { body: makeMe() }, 'POST /auth/logout': { status: 204 } })
    const app = await mountApp('/me')
    wrapper = app.wrapper
    await wrapper.find('[data-testid="me-logout"]').trigger('click')
    await settle()
    await clickText('退出登录') // the dialog's confirm button
    await waitFor(() => app.router.currentRoute.value.name === 'login')
    expect(calls.some((c) => c.method === 'POST' && c.path === '/auth/logout')).toBe(true)
    expect(useUserStore(app.pinia).isAuthenticated).toBe(false)
  })

  it('a 401 session_expired anywhere clears the user and redirects to /login?next=', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe() },
      'GET /auth/tokens': apiError(401, 'auth.session_expired', '登录已过期，请重新登录'),
    })
    const app = await mountApp('/me')
    wrapper = app.wrapper
    setupApi(app.router, app.pinia)
    await app.router.push('/me/tokens')
    await waitFor(() => app.router.currentRoute.value.name === 'login')
    expect(app.router.currentRoute.value.query.next).toBe('/me/tokens')
    expect(useUserStore(app.pinia).me).toBeNull()
    expect(document.body.textContent).toContain('登录已过期，请重新登录')
    await expect(http.get('/auth/tokens')).rejects.toMatchObject({ code: 'auth.session_expired' })
  })
})

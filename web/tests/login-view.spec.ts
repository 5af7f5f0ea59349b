import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  localStorage.clear()
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  // Vant's toast/dialog singletons stay attached to <body> across tests on purpose.
})

const input = (w: VueWrapper, id: string) => w.find(`input[data-testid="${id}"]`)

async function fillAndSubmit(w: VueWrapper, values: Record<string, string>, button: string): Promise<void> {
  for (const [id, v] of Object.entries(values)) await input(w, id).setValue(v)
  await w.find(`[data-testid="${button}"]`).trigger('click') // a submit button: submits its form
  await settle()
}

describe('LoginView', () => {
  it('shows the product name, labelled inputs and a language switch', async () => {
    mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    const app = await mountApp('/')
    wrapper = app.wrapper
    expect(app.router.currentRoute.value.name).toBe('login')
    expect(wrapper.find('[data-testid="login-product"]').text()).toBe('信贷通 LoanDesk')
    const username = input(wrapper, 'login-username')
    expect(username.exists()).toBe(true)
    expect(username.attributes('placeholder')).toBe('用户名或手机号')
    expect(wrapper.find(`label[for="${username.attributes('id')}"]`).text()).toBe('账号')
    expect(input(wrapper, 'login-password').attributes('type')).toBe('password')
    expect(wrapper.find('[data-testid="login-language"]').exists()).toBe(true)
  })

  it('validates required fields before calling the API', async () => {
    const { calls } = mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    const app = await mountApp('/login')
    wrapper = app.wrapper
    await fillAndSubmit(wrapper, {}, 'login-submit')
    expect(calls.some((c) => c.path === '/auth/login')).toBe(false)
    expect(wrapper.text()).toContain('请输入用户名或手机号')
  })

  it('asks for the TOTP code on auth.otp_required, resubmits with otp_code and goes to next', async () => {
    const logins: MockRequest[] = []
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'POST /auth/login': (req) => {
        logins.push(req)
        const body = req.body as { otp_code?: string }
        return body.otp_code === '123456'
          ? { body: makeMe() }
          : apiError(401, 'auth.otp_required', '请输入两步验证动态码')
      },
      'GET /auth/tokens': { body: [] },
    })
    const app = await mountApp('/me/tokens')
    wrapper = app.wrapper
    expect(app.router.currentRoute.value.fullPath).toBe('/login?next=/me/tokens')
    expect(input(wrapper, 'login-otp').exists()).toBe(false)

    await fillAndSubmit(wrapper, { 'login-username': 'officer1', 'login-password': 's3cret!' }, 'login-submit')

    expect(logins).toHaveLength(1)
    expect(logins[0]!.body).toEqual({ username: 'officer1', password: 's3cret!' })
    expect(logins[0]!.headers.get('X-CSRFToken')).toBe('tok')
    expect(input(wrapper, 'login-otp').exists()).toBe(true)
    expect(input(wrapper, 'login-username').exists()).toBe(false)
    expect(wrapper.text()).toContain('请输入两步验证动态码')
    expect(app.router.currentRoute.value.name).toBe('login')

    await fillAndSubmit(wrapper, { 'login-otp': '123456' }, 'login-otp-submit')

    expect(logins).toHaveLength(2)
    expect(logins[1]!.body).toEqual({ username: 'officer1', password: 's3cret!', otp_code: '123456' })
    await waitFor(() => app.router.currentRoute.value.name === 'tokens')
    expect(app.router.currentRoute.value.fullPath).toBe('/me/tokens')
  })

  it('rejects a malformed TOTP code client-side', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'POST /auth/login': apiError(401, 'auth.otp_required', '请输入两步验证动态码'),
    })
    const app = await mountApp('/login')
    wrapper = app.wrapper
    await fillAndSubmit(wrapper, { 'login-username': 'u', 'login-password': 'p' }, 'login-submit')
    await fillAndSubmit(wrapper, { 'login-otp': '12a' }, 'login-otp-submit')
    expect(calls.filter((c) => c.path === '/auth/login')).toHaveLength(1)
    expect(wrapper.text()).toContain('请输入 6 位数字动态码')
  })

  it('stays on the page and shows the server message for wrong credentials', async () => {
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'POST /auth/login': apiError(401, 'auth.invalid_credentials', '用户名或密码错误'),
    })
    const app = await mountApp('/login')
    wrapper = app.wrapper
    await fillAndSubmit(wrapper, { 'login-username': 'u', 'login-password': 'bad' }, 'login-submit')
    expect(app.router.currentRoute.value.name).toBe('login')
    expect(document.body.textContent).toContain('用户名或密码错误') // Vant fail toast
    expect(input(wrapper, 'login-otp').exists()).toBe(false)
  })

  it('goes home after login without next, and never to an outside next', async () => {
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'POST /auth/login': { body: makeMe() },
    })
    const app = await mountApp('/login?next=//evil.example')
    wrapper = app.wrapper
    await fillAndSubmit(wrapper, { 'login-username': 'u', 'login-password': 'p' }, 'login-submit')
    await waitFor(() => app.router.currentRoute.value.name === 'home')
    expect(app.router.currentRoute.value.fullPath).toBe('/')
    expect(wrapper.find('[data-testid="home-greeting"]').text()).toMatch(/王小明/)
    expect(wrapper.find('[data-testid="tab-home"]').exists()).toBe(true)
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, buildUrl, configureApi, http, readCookie, resetCsrfState } from '@/api/client'
import { apiError, clearCookies, mockFetch, setCookie } from './helpers'

let locale = 'zh-CN'
const onError = vi.fn()
const onUnauthorized = vi.fn()

beforeEach(() => {
  clearCookies()
  resetCsrfState()
  locale = 'zh-CN'
  onError.mockReset()
  onUnauthorized.mockReset()
  configureApi({
    baseUrl: '/api/v1',
    getLocale: () => locale,
    onError,
    onUnauthorized,
    fallbackMessage: (status) => (status === 0 ? '网络连接失败' : `服务器错误（${status}）`),
  })
})
afterEach(() => clearCookies())

describe('request headers', () => {
  it('sends Accept-Language matching the current UI locale on every request', async () => {
    const { calls } = mockFetch({ 'GET /health': { body: { status: 'ok' } } })
    await http.get('/health')
    locale = 'en-US'
    await http.get('/health')
    expect(calls.map((c) => c.headers.get('Accept-Language'))).toEqual(['zh-CN', 'en-US'])
  })

  it('uses same-origin credentials', async () => {
    const { fn } = mockFetch({ 'GET /health': { body: {} } })
    await http.get('/health')
    expect(fn.mock.calls[0]?.[1]?.credentials).toBe('same-origin')
  })

  it('does not send X-CSRFToken on GET', async () => {
    setCookie('csrftoken', 'tok123')
    const { calls } = mockFetch({ 'GET /auth/me': { body: {} } })
    await http.get('/auth/me')
    expect(calls[0]?.headers.has('X-CSRFToken')).toBe(false)
  })

  it.each(['post', 'put', 'patch', 'delete'] as const)('sends the csrftoken cookie as X-CSRFToken on %s', async (m) => {
    setCookie('csrftoken', 'tok123')
    const { calls } = mockFetch({ [`${m.toUpperCase()} /things/1`]: { status: 204 } })
    await (m === 'delete' ? http.delete('/things/1') : http[m]('/things/1', { a: 1 }))
    expect(calls).toHaveLength(1)
    expect(calls[0]?.headers.get('X-CSRFToken')).toBe('tok123')
  })

  it('fetches /auth/csrf once before the first unsafe request when there is no cookie', async () => {
    const { calls } = mockFetch({
      'GET /auth/csrf': () => {
        setCookie('csrftoken', 'fresh-cookie')
        return { body: { csrf_token: 'masked-token' } }
      },
      'POST /auth/logout': { status: 204 },
    })
    await Promise.all([http.post('/auth/logout'), http.post('/auth/logout')])
    expect(calls.filter((c) => c.path === '/auth/csrf')).toHaveLength(1)
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts.map((c) => c.headers.get('X-CSRFToken'))).toEqual(['fresh-cookie', 'fresh-cookie'])
  })

  it('falls back to the token in the /auth/csrf body when the cookie is not readable', async () => {
    const { calls } = mockFetch({
      'GET /auth/csrf': { body: { csrf_token: 'body-token' } },
      'POST /x': { body: { ok: true } },
    })
    await http.post('/x', {})
    expect(calls.at(-1)?.headers.get('X-CSRFToken')).toBe('body-token')
  })

  it('retries once with a fresh token after a CSRF 403', async () => {
    setCookie('csrftoken', 'stale')
    let posts = 0
    const { calls } = mockFetch({
      'GET /auth/csrf': () => {
        setCookie('csrftoken', 'rotated')
        return { body: { csrf_token: 'rotated' } }
      },
      'POST /x': () => (++posts === 1 ? apiError(403, 'auth.csrf_failed', 'CSRF 校验失败') : { body: { ok: true } }),
    })
    await expect(http.post('/x', {})).resolves.toEqual({ ok: true })
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.headers.get('X-CSRFToken'))).toEqual([
      'stale',
      'rotated',
    ])
    expect(onError).not.toHaveBeenCalled()
  })

  it('serialises the body as JSON and drops empty query values', async () => {
    setCookie('csrftoken', 't')
    const { calls } = mockFetch({ 'POST /accounts/users': { status: 201, body: { id: 9 } } })
    await expect(http.post('/accounts/users', { username: 'u1' })).resolves.toEqual({ id: 9 })
    expect(calls[0]?.headers.get('Content-Type')).toBe('application/json')
    expect(calls[0]?.body).toEqual({ username: 'u1' })
    expect(buildUrl('/accounts/users', { q: '', page: 2, role_id: null, is_active: false })).toBe(
      '/api/v1/accounts/users?page=2&is_active=false',
    )
  })

  it('returns undefined for 204 responses', async () => {
    setCookie('csrftoken', 't')
    mockFetch({ 'DELETE /auth/tokens/3': { status: 204 } })
    await expect(http.delete('/auth/tokens/3')).resolves.toBeUndefined()
  })
})

describe('error mapping', () => {
  it('maps the error body into a typed ApiError and calls onError', async () => {
    setCookie('csrftoken', 't')
    mockFetch({ 'POST /auth/login': apiError(401, 'auth.invalid_credentials', '用户名或密码错误') })
    const err = await http.post('/auth/login', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 401, code: 'auth.invalid_credentials', message: '用户名或密码错误' })
    expect(onError).toHaveBeenCalledWith(err)
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('exposes validation field messages', async () => {
    setCookie('csrftoken', 't')
    mockFetch({
      'POST /auth/password': apiError(422, 'validation_error', '输入有误', {
        fields: { new_password: '密码太短', current_password: ['当前密码错误'] },
      }),
    })
    const err = (await http.post('/auth/password', {}).catch((e: unknown) => e)) as ApiError
    expect(err.isValidation).toBe(true)
    expect(err.fields).toEqual({ new_password: '密码太短', current_password: '当前密码错误' })
  })

  it('uses the fallback message when the body is not the API error shape', async () => {
    mockFetch({ 'GET /boom': { status: 502, body: '<html>' } })
    const err = (await http.get('/boom').catch((e: unknown) => e)) as ApiError
    expect(err).toMatchObject({ status: 502, code: 'http_502', message: '服务器错误（502）' })
    expect(err.fields).toEqual({})
  })

  it('turns a network failure into ApiError status 0', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))
    const err = (await http.get('/health').catch((e: unknown) => e)) as ApiError
    expect(err).toMatchObject({ status: 0, code: 'network_error', message: '网络连接失败' })
    expect(onError).toHaveBeenCalledOnce()
  })
})

describe('401 hook', () => {
  it.each(['auth.not_authenticated', 'auth.session_expired'])('calls onUnauthorized for %s', async (code) => {
    mockFetch({ 'GET /accounts/users': apiError(401, code, '请先登录') })
    await expect(http.get('/accounts/users')).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledOnce()
    expect(onUnauthorized.mock.calls[0]?.[0]).toMatchObject({ code })
    expect(onError).not.toHaveBeenCalled()
  })

  it('does not treat wrong credentials or OTP prompts as a lost session', async () => {
    setCookie('csrftoken', 't')
    mockFetch({ 'POST /auth/login': apiError(401, 'auth.otp_required', '请输入动态码') })
    await expect(http.post('/auth/login', {})).rejects.toMatchObject({ code: 'auth.otp_required' })
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('quiet requests call no hook', async () => {
    mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    await expect(http.get('/auth/me', undefined, { quiet: [401] })).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).not.toHaveBeenCalled()
    expect(onError).not.toHaveBeenCalled()
  })
})

describe('readCookie', () => {
  it('finds a cookie among several and decodes it', () => {
    setCookie('a', '1')
    setCookie('csrftoken', 'x y')
    expect(readCookie('csrftoken')).toBe('x y')
    expect(readCookie('missing')).toBeNull()
  })
})

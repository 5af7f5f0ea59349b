import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { configureApi, resetCsrfState } from '@/api/client'
import { currentLocale, LOCALE_STORAGE_KEY, setLocale } from '@/i18n'
import { useUserStore } from '@/stores/user'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from './helpers'

beforeEach(() => {
  setActivePinia(createPinia())
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  localStorage.clear()
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})

describe('user store', () => {
  it('loads /auth/me once, even for concurrent callers', async () => {
    const { calls } = mockFetch({ 'GET /auth/me': { body: makeMe() } })
    const user = useUserStore()
    const [a, b] = await Promise.all([user.fetchMe(), user.fetchMe()])
    await user.fetchMe()
    expect(calls.filter((c) => c.path === '/auth/me')).toHaveLength(1)
    expect(a?.username).toBe('officer1')
    expect(b).toBe(a)
    expect(user.isAuthenticated).toBe(true)
    expect(user.displayName).toBe('王小明')
  })

  it('treats 401 from /auth/me as signed out', async () => {
    mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    const user = useUserStore()
    await expect(user.fetchMe()).resolves.toBeNull()
    expect(user.loaded).toBe(true)
    expect(user.isAuthenticated).toBe(false)
  })

  it('rethrows other failures and tries again next time', async () => {
    let n = 0
    mockFetch({ 'GET /auth/me': () => (++n === 1 ? apiError(503, 'unavailable', '维护中') : { body: makeMe() }) })
    const user = useUserStore()
    await expect(user.fetchMe()).rejects.toMatchObject({ status: 503 })
    expect(user.loaded).toBe(false)
    await expect(user.fetchMe()).resolves.toMatchObject({ id: 1 })
  })

  it('checks permissions; superusers have all of them', async () => {
    const user = useUserStore()
    expect(user.hasPerm('customers.view')).toBe(false)
    user.setMe(makeMe({ permissions: ['accounts.manage_users'] }))
    expect(user.hasPerm('accounts.manage_users')).toBe(true)
    expect(user.hasPerm('audit.view')).toBe(false)
    user.setMe(makeMe({ permissions: [], is_superuser: true }))
    expect(user.hasPerm('audit.view')).toBe(true)
  })

  it('applies the account language after loading the user', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe({ language: 'en-US' }) } })
    await useUserStore().fetchMe()
    expect(currentLocale()).toBe('en-US')
    expect(document.documentElement.lang).toBe('en-US')
  })

  it('login stores the user; a language picked on the login page is saved to the account', async () => {
    const { calls } = mockFetch({
      'POST /auth/login': { body: makeMe({ language: 'zh-CN' }) },
      'PATCH /auth/me': (req) => ({ body: makeMe({ language: (req.body as { language: string }).language }) }),
    })
    const user = useUserStore()
    await user.changeLanguage('en-US') // anonymous: UI only
    expect(calls).toHaveLength(0)
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en-US')

    await user.login({ username: 'officer1', password: 'pw' })
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /auth/login', 'PATCH /auth/me'])
    expect(calls[1]?.body).toEqual({ language: 'en-US' })
    expect(user.me?.language).toBe('en-US')
    expect(currentLocale()).toBe('en-US')
  })

  it('changeLanguage while signed in switches the UI and PATCHes /auth/me', async () => {
    const { calls } = mockFetch({ 'PATCH /auth/me': { body: makeMe({ language: 'en-US' }) } })
    const user = useUserStore()
    user.setMe(makeMe())
    await user.changeLanguage('en-US')
    expect(currentLocale()).toBe('en-US')
    expect(calls[0]).toMatchObject({ method: 'PATCH', path: '/auth/me', body: { language: 'en-US' } })
    expect(calls[0]?.headers.get('Accept-Language')).toBe('en-US')
    expect(user.me?.language).toBe('en-US')
  })

  it('logout posts and clears the user even if the request fails', async () => {
    mockFetch({ 'POST /auth/logout': apiError(500, 'server_error', '出错了') })
    const user = useUserStore()
    user.setMe(makeMe())
    await expect(user.logout()).rejects.toMatchObject({ status: 500 })
    expect(user.me).toBeNull()
    expect(user.isAuthenticated).toBe(false)
  })
})

import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { resetCsrfState } from '@/api/client'
import { authGuard, safeNext } from '@/router/guard'
import { routes } from '@/router/routes'
import { useUserStore } from '@/stores/user'
import { apiError, makeMe, mockFetch } from './helpers'

// The real route table, with empty components so nothing else renders.
const Empty = { render: () => null }
function makeRouter(): Router {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: routes.map((r) => ({ ...r, component: Empty }) as typeof r),
  })
  router.beforeEach(authGuard)
  return router
}

beforeEach(() => {
  setActivePinia(createPinia())
  resetCsrfState()
})

describe('route guard', () => {
  it('sends anonymous users to /login with next=<path>', async () => {
    mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    const router = makeRouter()
    await router.push('/manage/users?q=wang')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.next).toBe('/manage/users?q=wang')
  })

  it('omits next for the home page', async () => {
    mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    const router = makeRouter()
    await router.push('/')
    expect(router.currentRoute.value.fullPath).toBe('/login')
  })

  it('calls /auth/me only once across navigations', async () => {
    const { calls } = mockFetch({ 'GET /auth/me': { body: makeMe() } })
    const router = makeRouter()
    await router.push('/')
    await router.push('/me')
    await router.push('/customers')
    expect(router.currentRoute.value.name).toBe('customers')
    expect(calls.filter((c) => c.path === '/auth/me')).toHaveLength(1)
  })

  it('lets the login page through for anonymous users', async () => {
    mockFetch({ 'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录') })
    const router = makeRouter()
    await router.push('/login?next=/me')
    expect(router.currentRoute.value.fullPath).toBe('/login?next=/me')
  })

  it('sends signed-in users away from /login to next (or home)', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe() } })
    const router = makeRouter()
    await router.push('/login?next=/me/tokens')
    expect(router.currentRoute.value.fullPath).toBe('/me/tokens')
    await router.push('/login?next=//evil.example')
    expect(router.currentRoute.value.name).toBe('home')
  })

  it('blocks admin pages without the permission, allows them with it', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe({ permissions: ['audit.view'] }) } })
    const router = makeRouter()
    await router.push('/manage/users')
    expect(router.currentRoute.value.name).toBe('home')
    await router.push('/manage/audit')
    expect(router.currentRoute.value.name).toBe('admin-audit')
  })

  it('superusers reach every admin page', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe({ permissions: [], is_superuser: true }) } })
    const router = makeRouter()
    for (const path of ['/manage/users', '/manage/departments', '/manage/roles', '/manage/audit', '/manage/users/12']) {
      await router.push(path)
      expect(router.currentRoute.value.path).toBe(path)
    }
  })

  it('after the store is cleared (session expired) the next navigation goes to /login', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe() } })
    const router = makeRouter()
    await router.push('/me')
    useUserStore().clear()
    await router.push('/customers')
    expect(router.currentRoute.value.fullPath).toBe('/login?next=/customers')
  })

  it('treats an unreachable server as signed out', async () => {
    mockFetch({ 'GET /auth/me': { status: 502, body: 'Bad gateway' } })
    const router = makeRouter()
    await router.push('/me')
    expect(router.currentRoute.value.fullPath).toBe('/login?next=/me')
  })
})

describe('safeNext', () => {
  it.each([
    ['/me/tokens', '/me/tokens'],
    ['/manage/users?q=1', '/manage/users?q=1'],
    ['//evil.example/x', null],
    ['/\\evil.example', null],
    ['https://evil.example', null],
    ['/login?next=/x', null],
    [undefined, null],
    [['/me', '/x'], '/me'],
  ])('%s → %s', (input, expected) => {
    expect(safeNext(input)).toBe(expected)
  })
})

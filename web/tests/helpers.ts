import { vi } from 'vitest'
import type { Me } from '@/api/types'

export interface MockRequest {
  method: string
  url: URL
  path: string
  headers: Headers
  body: unknown
}
export interface MockResponse {
  status?: number
  body?: unknown
}
export type Handler = (req: MockRequest) => MockResponse | Promise<MockResponse>

/**
 * Stub global fetch with handlers keyed "METHOD /path" (path after /api/v1). Unknown routes
 * answer 404 with the API's error shape. Returns the recorded requests.
 */
export function mockFetch(routes: Record<string, Handler | MockResponse>) {
  const calls: MockRequest[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost')
    const method = (init.method ?? 'GET').toUpperCase()
    const path = url.pathname.replace(/^\/api\/v1/, '')
    const req: MockRequest = {
      method,
      url,
      path,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    }
    calls.push(req)
    const route = routes[`${method} ${path}`]
    const res: MockResponse = route
      ? typeof route === 'function'
        ? await route(req)
        : route
      : { status: 404, body: { code: 'not_found', message: '未找到', details: {} } }
    const status = res.status ?? 200
    if (status === 204 || res.body === undefined) return new Response(null, { status })
    return new Response(JSON.stringify(res.body), { status, headers: { 'Content-Type': 'application/json' } })
  })
  vi.stubGlobal('fetch', fn)
  return { fn, calls }
}

export function apiError(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
  return { status, body: { code, message, details } }
}

export function setCookie(name: string, value: string): void {
  document.cookie = `${name}=${encodeURIComponent(value)}; path=/`
}

export function clearCookies(): void {
  for (const part of document.cookie.split(';')) {
    const name = part.split('=')[0]?.trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

export function makeMe(overrides: Partial<Me> = {}): Me {
  return {
    id: 1,
    username: 'officer1',
    full_name: '王小明',
    phone: '138****0001',
    email: '',
    department: { id: 3, name: '北京一组', path: '总部 / 北京分公司 / 北京一组' },
    roles: [{ id: 1, code: 'officer', name: '客户经理' }],
    permissions: ['customers.view'],
    is_superuser: false,
    otp_enabled: false,
    otp_required: false,
    language: 'zh-CN',
    business_date: '2026-11-28',
    ...overrides,
  }
}

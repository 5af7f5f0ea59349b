import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Dashboard, Subscription } from '@/api/reports'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const admin = makeMe({ id: 7, username: 'admin', permissions: ['reports.view', 'reports.design'] })
const dashboard = (can: boolean): Dashboard => ({
  id: 3,
  code: 'mine',
  name: '我的业绩',
  name_zh: '我的业绩',
  name_en: 'Mine',
  description: '',
  refresh_seconds: 0,
  shared_with: [],
  is_system: true,
  sort: 40,
  can_edit: can,
  can_subscribe: can,
  widget_count: 0,
  updated_at: '2026-11-20T00:00:00Z',
  widgets: [],
})
const existing: Subscription = {
  id: 1,
  dashboard: 3,
  users: [{ id: 7, name: '管理员' }],
  roles: ['gm'],
  send_at: '08:00',
  weekday: null,
  enabled: true,
  last_sent_on: null,
}

beforeEach(() => {
  clearCookies()
  resetCsrfState()
  setCookie('csrftoken', 'tok')
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
})

function actionNames(): string[] {
  return [...document.querySelectorAll('.van-action-sheet__name')].map((e) => e.textContent ?? '')
}

describe('dashboard 订阅', () => {
  it('lists subscriptions and adds a weekly one for a role and me', async () => {
    let posted: Record<string, unknown> | undefined
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /reports/dashboards/3': { body: dashboard(true) },
      'GET /reports/catalog': { body: { metrics: [], dimensions: [], grains: [], presets: [], charts: [], roles: [{ code: 'gm', name: '总经理' }, { code: 'manager', name: '经理' }], can_design: true } },
      'GET /reports/dashboards/3/subscriptions': { body: [existing] },
      'POST /reports/dashboards/3/subscriptions': (req) => {
        posted = req.body as Record<string, unknown>
        return { status: 201, body: { ...existing, id: 2 } }
      },
      'DELETE /reports/subscriptions/1': { status: 204 },
    })
    ;({ wrapper } = await mountApp('/reports/3'))
    await waitFor(() => !!document.querySelector('[data-testid="dashboard"]'))
    document.querySelector<HTMLElement>('[data-testid="dashboard-actions"]')!.click()
    await waitFor(() => actionNames().includes('订阅'))
    const item = [...document.querySelectorAll<HTMLElement>('.van-action-sheet__item')].find((e) => e.textContent?.includes('订阅'))!
    item.click()
    await waitFor(() => document.querySelectorAll('[data-testid="subscription"]').length === 1)
    expect(document.querySelector('[data-testid="subscription"]')!.textContent).toContain('每天 08:00')
    expect(document.querySelector('[data-testid="subscription"]')!.textContent).toContain('总经理')

    const time = document.querySelector<HTMLInputElement>('[data-testid="subscribe-time"] input')!
    time.value = '07:30'
    time.dispatchEvent(new Event('input'))
    document.querySelector<HTMLElement>('[data-testid="subscribe-weekday-0"]')!.click()
    document.querySelector<HTMLElement>('[data-testid="subscribe-role-manager"]')!.click()
    await settle()
    document.querySelector<HTMLElement>('[data-testid="subscribe-save"]')!.click()
    await waitFor(() => posted !== undefined)
    expect(posted).toEqual({ users: [7], roles: ['manager'], send_at: '07:30', weekday: 0 })

    document.querySelector<HTMLElement>('[data-testid="subscription-delete"]')!.click()
    await waitFor(() => calls.some((c) => c.method === 'DELETE'))
  })

  it('is not offered without design rights or ownership', async () => {
    mockFetch({
      'GET /auth/me': { body: makeMe({ username: 'officer1', permissions: ['reports.view'] }) },
      'GET /reports/dashboards/3': { body: dashboard(false) },
    })
    ;({ wrapper } = await mountApp('/reports/3'))
    await waitFor(() => !!document.querySelector('[data-testid="dashboard"]'))
    document.querySelector<HTMLElement>('[data-testid="dashboard-actions"]')!.click()
    await waitFor(() => actionNames().length > 0)
    expect(actionNames()).not.toContain('订阅')
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { placeholders, undeclared, type ChannelList, type Delivery, type Template } from '@/api/channels'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const admin = makeMe({ permissions: ['notify.manage_channels'] })
const channels: ChannelList = {
  items: [
    {
      id: 1,
      kind: 'sms',
      code: 'sms',
      name: '短信',
      provider: 'outbox',
      settings: {},
      secrets: {},
      enabled: true,
      updated_at: '2026-03-11T00:00:00Z',
    },
    {
      id: 2,
      kind: 'email',
      code: 'email',
      name: '邮件',
      provider: 'smtp',
      settings: { host: 'smtp.example.com', port: 465 },
      secrets: { password: true },
      enabled: true,
      updated_at: '2026-03-11T00:00:00Z',
    },
  ],
  providers: {
    sms: [
      { provider: 'outbox', settings: [], secrets: [] },
      { provider: 'aliyun', settings: ['access_key_id', 'sign_name', 'region', 'endpoint', 'timeout'], secrets: ['access_key_secret'] },
    ],
    email: [{ provider: 'smtp', settings: ['host', 'port', 'security', 'username', 'sender'], secrets: ['password'] }],
    dingtalk: [{ provider: 'dingtalk', settings: ['timeout'], secrets: ['webhook', 'secret'] }],
    wecom: [{ provider: 'wecom', settings: ['timeout'], secrets: ['webhook'] }],
    webhook: [{ provider: 'webhook', settings: ['url', 'timeout'], secrets: ['secret'] }],
  },
}
const overdue: Template = {
  id: 3,
  code: 'overdue_notice',
  channel: 'sms',
  category: 'collection',
  name: '逾期提醒',
  subject: '',
  body: '尊敬的{name},您的贷款已逾期{days}天',
  variables: ['name', 'days'],
  provider_template_id: '',
  sign_name: '',
  enabled: true,
  updated_at: '2026-03-11T00:00:00Z',
}
const settings = {
  quiet_enabled: true,
  quiet_start: '21:00',
  quiet_end: '08:00',
  quiet_timezone: 'Asia/Shanghai',
  quiet_categories: ['collection'],
  caps: { 'sms.collection': 3 },
  max_attempts: 6,
  webhook_secret_set: true,
}
function delivery(over: Partial<Delivery>): Delivery {
  return {
    id: 10,
    dedupe_key: 'test:1',
    channel: 'sms',
    provider: 'outbox',
    category: 'transactional',
    template_code: '',
    customer_id: null,
    address_masked: '138****5678',
    subject: '',
    body: '测试短信',
    source: 'test',
    status: 'sent',
    reason: '',
    attempts: 1,
    next_attempt_at: null,
    last_error: '',
    provider_ref: '',
    created_at: '2026-03-11T04:00:00Z',
    sent_at: '2026-03-11T04:00:00Z',
    ...over,
  }
}
const counts = { pending: 0, deferred: 0, sent: 1, suppressed: 0, dead: 1 }

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
  document.body.innerHTML = ''
})

function click(selector: string): void {
  const el = document.querySelector(selector) as HTMLElement | null
  if (!el) throw new Error(`missing ${selector}`)
  el.click()
}
function type(selector: string, value: string): void {
  const el = document.querySelector(`${selector} input, ${selector} textarea`) as HTMLInputElement | null
  if (!el) throw new Error(`missing ${selector}`)
  el.value = value
  el.dispatchEvent(new Event('input'))
}

describe('template helpers', () => {
  it('finds placeholders and undeclared ones, ignoring literal braces', () => {
    expect(placeholders('{name} owes {amount}, {{not}} {name}')).toEqual(['name', 'amount'])
    expect(undeclared(['{name} {dayz}'], ['name', 'days'])).toEqual(['dayz'])
    expect(undeclared(['plain'], [])).toEqual([])
  })
})

describe('channels page', () => {
  function routes(extra: Record<string, unknown> = {}) {
    let log = [delivery({}), delivery({ id: 11, channel: 'webhook', status: 'dead', last_error: 'HTTP 500', address_masked: 'ERP' })]
    return mockFetch({
      'GET /auth/me': { body: admin },
      'GET /notify/channels': { body: channels },
      'GET /notify/templates': { body: [overdue] },
      'GET /notify/settings': { body: settings },
      'GET /notify/deliveries/counts': { body: counts },
      'GET /notify/deliveries': (req) => {
        const s = req.url.searchParams.get('status')
        const items = s ? log.filter((d) => d.status === s) : log
        return { body: { items, count: items.length, page: 1, page_size: 20 } }
      },
      'POST /notify/deliveries/11/retry': () => {
        log = log.map((d) => (d.id === 11 ? { ...d, status: 'pending' as const } : d))
        return { body: { ...log[1] } }
      },
      ...extra,
    } as Parameters<typeof mockFetch>[0])
  }

  it('lists channels, sends a test SMS and shows secrets as set, never their values', async () => {
    const { calls } = routes({
      'POST /notify/channels/1/test': { body: delivery({ id: 12 }) },
    })
    const app = await mountApp('/manage/channels')
    wrapper = app.wrapper
    await waitFor(() => !!document.querySelector('[data-testid="channel-sms"]'))
    expect(document.body.textContent).toContain('内置发件箱(不外发)')
    click('[data-testid="channel-test-sms"]')
    await settle()
    type('[data-testid="test-to"]', '13812345678')
    await settle()
    click('[data-testid="test-send"]')
    await settle()
    const post = calls.find((c) => c.method === 'POST' && c.path === '/notify/channels/1/test')
    expect((post?.body as { to: string }).to).toBe('13812345678')

    click('[data-testid="channel-edit-email"]')
    await settle()
    const pw = document.querySelector('[data-testid="channel-secret-password"] input') as HTMLInputElement
    expect(pw.value).toBe('')
    expect(pw.placeholder).toBe('已设置,留空则不修改')
  })

  it('warns about undeclared variables and saves a template', async () => {
    const { calls } = routes({
      'PUT /notify/templates/3': (req: { body: unknown }) => ({ body: { ...overdue, ...(req.body as object) } }),
    })
    const app = await mountApp('/manage/channels')
    wrapper = app.wrapper
    await waitFor(() => !!document.querySelector('[data-testid="channels-tabs"]'))
    click('.van-tab:nth-child(2)')
    await settle()
    await waitFor(() => !!document.querySelector('[data-testid="template-sms-overdue_notice"]'))
    click('[data-testid="template-sms-overdue_notice"]')
    await settle()
    type('[data-testid="tpl-body"]', '{name} 已逾期 {dayz} 天')
    await settle()
    expect(document.body.textContent).toContain('未声明的变量:dayz')
    expect((document.querySelector('[data-testid="tpl-save"]') as HTMLButtonElement).disabled).toBe(true)
    type('[data-testid="tpl-body"]', '{name} 已逾期 {days} 天')
    await settle()
    click('[data-testid="tpl-save"]')
    await settle()
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.body).toMatchObject({ body: '{name} 已逾期 {days} 天', variables: ['name', 'days'] })
  })

  it('filters the log by status and retries a dead letter', async () => {
    const { calls } = routes()
    const app = await mountApp('/manage/channels')
    wrapper = app.wrapper
    await waitFor(() => !!document.querySelector('[data-testid="channels-tabs"]'))
    click('.van-tab:nth-child(4)')
    await settle()
    await waitFor(() => !!document.querySelector('[data-testid="log-status-dead"]'))
    expect(document.querySelector('[data-testid="log-status-dead"] .ch-count')?.textContent).toBe('1')
    click('[data-testid="log-status-dead"]')
    await settle()
    expect(calls.some((c) => c.path === '/notify/deliveries' && c.url.searchParams.get('status') === 'dead')).toBe(true)
    expect(document.querySelector('[data-testid="delivery-10"]')).toBeNull()
    click('[data-testid="delivery-retry-11"]')
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/notify/deliveries/11/retry')).toBe(true)
  })

  it('saves quiet hours and caps as numbers', async () => {
    const { calls } = routes({
      'PUT /notify/settings': (req: { body: unknown }) => ({ body: { ...settings, ...(req.body as object) } }),
    })
    const app = await mountApp('/manage/channels')
    wrapper = app.wrapper
    await waitFor(() => !!document.querySelector('[data-testid="channels-tabs"]'))
    click('.van-tab:nth-child(3)')
    await settle()
    type('[data-testid="quiet-start"]', '22:00')
    type('[data-testid="cap-sms.marketing"]', '2')
    await settle()
    click('[data-testid="settings-save"]')
    await settle()
    const put = calls.find((c) => c.method === 'PUT' && c.path === '/notify/settings')
    expect(put?.body).toMatchObject({ quiet_start: '22:00', caps: { 'sms.collection': 3, 'sms.marketing': 2 } })
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, mockFetch, setCookie, type MockRequest } from './helpers'
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
  vi.useRealTimers()
})

const tid = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)

const unverified = { form_name: '贷款申请', verified: false, verification: 'sms', phone_hint: '138****5678' }
const full = {
  form_name: '贷款申请',
  verified: true,
  verification: 'sms',
  phone_hint: '138****5678',
  serial_no: 'SQ202611280001',
  submitted_at: '2026-11-28T02:00:00Z',
  status: 'submitted',
  status_label: '已提交',
  grant_expires_in: 1800,
  flow: {
    status: 'running',
    summary: '您的申请正在审核中，请耐心等待。',
    steps: [
      { label: '提交申请', status: 'done', text: '已完成' },
      { label: '初审', status: 'current', text: '进行中' },
    ],
  },
}

describe('borrower status page /s/:token with phone verification', { timeout: 20000 }, () => {
  it('asks for the code sent to the phone on record, then shows the progress', async () => {
    const verifies: MockRequest[] = []
    const { calls } = mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/status/st-1': { body: unverified },
      'POST /public/status/st-1/sms': { body: { sent: true, phone: '138****5678', expires_in: 300, resend_after: 60 } },
      'POST /public/status/st-1/verify': (req) => {
        verifies.push(req)
        if (verifies.length === 1) {
          return apiError(422, 'validation_error', '提交的数据有误', {
            fields: { code: '验证码错误或已过期,还可尝试 4 次' },
          })
        }
        return { body: full }
      },
    })
    ;({ wrapper } = await mountApp('/s/st-1'))
    await waitFor(() => tid(wrapper!, 'status-verify').exists())
    // nothing but the form's name and the masked phone before verification
    expect(tid(wrapper, 'status-phone-hint').text()).toContain('138****5678')
    expect(wrapper.text()).not.toContain('SQ202611280001')
    expect(tid(wrapper, 'public-status-label').exists()).toBe(false)
    expect(tid(wrapper, 'status-verify-submit').attributes('disabled')).toBeDefined()

    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await tid(wrapper, 'status-send-code').trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/public/status/st-1/sms')).toBe(true)
    expect(tid(wrapper, 'status-phone-hint').text()).toBe('验证码已发送至 138****5678')
    expect(tid(wrapper, 'status-send-code').text()).toBe('60 秒后重发')
    expect(tid(wrapper, 'status-send-code').attributes('disabled')).toBeDefined()
    vi.advanceTimersByTime(1000)
    await settle()
    expect(tid(wrapper, 'status-send-code').text()).toBe('59 秒后重发')
    vi.useRealTimers()

    await tid(wrapper, 'status-code').setValue('000000')
    await tid(wrapper, 'status-verify-submit').trigger('click')
    await waitFor(() => wrapper!.text().includes('还可尝试 4 次'))
    expect(verifies[0]?.body).toEqual({ code: '000000' })

    await tid(wrapper, 'status-code').setValue('123456')
    await tid(wrapper, 'status-verify-submit').trigger('click')
    await waitFor(() => tid(wrapper!, 'borrower-progress').exists())
    expect(verifies[1]?.body).toEqual({ code: '123456' })
    expect(tid(wrapper, 'status-verify').exists()).toBe(false)
    expect(tid(wrapper, 'public-status-label').text()).toBe('已提交')
    expect(wrapper.text()).toContain('SQ202611280001')
    expect(tid(wrapper, 'borrower-summary').text()).toBe('您的申请正在审核中，请耐心等待。')
  })

  it('goes straight to the progress while the grant cookie lasts (reload)', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/status/st-2': { body: full },
    })
    ;({ wrapper } = await mountApp('/s/st-2'))
    await waitFor(() => tid(wrapper!, 'borrower-progress').exists())
    expect(tid(wrapper, 'status-verify').exists()).toBe(false)
    expect(calls.filter((c) => c.path.startsWith('/public/status/st-2/')).length).toBe(0)
  })

  it('says when the page is locked and when the record has no phone', async () => {
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/status/st-3': { body: unverified },
      'POST /public/status/st-3/verify': apiError(429, 'forms.status.locked', '验证失败次数过多,请 60 分钟后再试', {
        retry_after: 3600,
      }),
      'GET /public/status/st-4': { body: { form_name: '回访登记', verified: false, verification: 'unavailable' } },
    })
    ;({ wrapper } = await mountApp('/s/st-3'))
    await waitFor(() => tid(wrapper!, 'status-verify').exists())
    await tid(wrapper, 'status-code').setValue('123456')
    await tid(wrapper, 'status-verify-submit').trigger('click')
    await waitFor(() => wrapper!.text().includes('验证失败次数过多'))
    wrapper.unmount()

    ;({ wrapper } = await mountApp('/s/st-4'))
    await waitFor(() => tid(wrapper!, 'status-verify-unavailable').exists())
    expect(wrapper.text()).toContain('请联系为您办理的客户经理')
    expect(tid(wrapper, 'status-send-code').exists()).toBe(false)
  })

  it('speaks English too', async () => {
    setLocale('en-US')
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', 'Sign in'),
      'GET /public/status/st-5': { body: unverified },
    })
    ;({ wrapper } = await mountApp('/s/st-5'))
    await waitFor(() => tid(wrapper!, 'status-verify').exists())
    expect(tid(wrapper, 'status-verify-submit').text()).toBe('View progress')
    expect(tid(wrapper, 'status-phone-hint').text()).toContain('138****5678')
  })
})

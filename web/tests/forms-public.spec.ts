import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { PublicForm } from '@/api/forms'
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
})

const form: PublicForm = {
  form: { name: '贷款申请', description: '个人贷款申请表' },
  version: 1,
  schema: {
    fields: [
      { key: 'name', type: 'text', label: '姓名', required: true },
      { key: 'phone', type: 'phone', label: '手机号', required: true },
      {
        key: 'co_borrowers',
        type: 'subtable',
        label: '共同借款人',
        children: [{ key: 'name', type: 'text', label: '姓名', required: true }],
      },
    ],
  },
  sms_verification: true,
  expires_at: null,
  shared_by: '王小明',
}

const input = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)

describe('public form page /f/:token', () => {
  it('opens without signing in, checks the phone by SMS, maps 422 paths and shows the status link', async () => {
    const submits: MockRequest[] = []
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/forms/abc': { body: form },
      'POST /public/forms/abc/evaluate': { body: { version: 1, values: {}, visible: {}, errors: {} } },
      'POST /public/forms/abc/sms': { body: { sent: true, phone: '139****5678', expires_in: 300, resend_after: 60 } },
      'POST /public/forms/abc/submit': (req) => {
        submits.push(req)
        if (submits.length === 1) {
          return apiError(422, 'validation_error', '提交的数据有误', {
            fields: { 'co_borrowers[0].name': '此项为必填项', sms_code: '验证码错误或已过期' },
          })
        }
        return { status: 201, body: { status_token: 'st-123', serial_no: 'SQ202611280001' } }
      },
    })
    const app = await mountApp('/f/abc')
    wrapper = app.wrapper
    expect(app.router.currentRoute.value.name).toBe('public-form')
    await waitFor(() => wrapper!.find('[data-testid="public-title"]').exists())
    expect(wrapper.find('[data-testid="public-title"]').text()).toBe('贷款申请')
    expect(wrapper.find('[data-testid="tabbar"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('王小明 邀请您填写')

    // The honeypot is out of sight and out of the tab order, but not display:none.
    const honeypot = input(wrapper, 'public-honeypot')
    expect(honeypot.attributes('tabindex')).toBe('-1')
    expect(honeypot.attributes('name')).toBe('website')
    expect(wrapper.find('.pub__hp').attributes('aria-hidden')).toBe('true')

    await input(wrapper, 'field-name').setValue('李四')
    await input(wrapper, 'field-phone').setValue('13912345678')
    await input(wrapper, 'field-co_borrowers-add').trigger('click')
    await input(wrapper, 'public-sms-send').trigger('click')
    await settle()
    expect(wrapper.text()).toContain('验证码已发送至 139****5678')
    expect(input(wrapper, 'public-sms-send').text()).toContain('秒后重发')

    await input(wrapper, 'public-sms-code').setValue('000000')
    await input(wrapper, 'public-submit').trigger('click')
    await settle()
    expect(submits[0]!.body).toEqual({
      data: { name: '李四', phone: '13912345678', co_borrowers: [{ name: null }] },
      sms_code: '000000',
      website: '',
    })
    expect(wrapper.find('[data-field="co_borrowers[0].name"]').text()).toContain('此项为必填项')
    expect(wrapper.find('[data-testid="public-sms"]').text()).toContain('验证码错误或已过期')

    await input(wrapper, 'field-co_borrowers-0-name').setValue('王五')
    await input(wrapper, 'public-sms-code').setValue('123456')
    await input(wrapper, 'public-submit').trigger('click')
    await settle()
    expect(submits[1]!.body).toMatchObject({ sms_code: '123456', data: { co_borrowers: [{ name: '王五' }] } })
    expect(wrapper.find('[data-testid="public-success"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="public-serial"]').text()).toBe('SQ202611280001')
    expect(wrapper.find('[data-testid="public-status-link"]').attributes('href')).toBe('/s/st-123')
  }, 20_000)

  it('says so when a link is switched off or expired', async () => {
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/forms/old': apiError(410, 'forms.link_expired', '该链接已过期'),
    })
    const app = await mountApp('/f/old')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="public-gone"]').exists())
    expect(wrapper.find('[data-testid="public-gone"]').text()).toContain('该链接已过期')
  })

  it('shows the status page of a submission', async () => {
    mockFetch({
      'GET /auth/me': apiError(401, 'auth.not_authenticated', '请先登录'),
      'GET /public/status/st-123': {
        body: { form_name: '贷款申请', serial_no: 'SQ1', submitted_at: '2026-11-28T02:00:00Z', status: 'submitted', status_label: '已提交' },
      },
    })
    const app = await mountApp('/s/st-123')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="public-status-label"]').exists())
    expect(wrapper.find('[data-testid="public-status-label"]').text()).toBe('已提交')
    expect(wrapper.text()).toContain('2026/11/28 10:00')
  })
})

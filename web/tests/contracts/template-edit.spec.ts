import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { ContractTemplate, Placeholder } from '@/api/contracts'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from '../helpers'
import { mountApp, settle, waitFor } from '../mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
  URL.createObjectURL = vi.fn(() => 'blob:preview')
  URL.revokeObjectURL = vi.fn()
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
})

const admin = makeMe({ username: 'admin', is_superuser: true, permissions: [] })
const officer = makeMe()
const TEMPLATE: ContractTemplate = {
  code: 'loan_contract',
  name: '个人借款合同',
  body: '借款金额 元\n\n{{signatures}}',
  is_active: true,
  version: 3,
  updated_at: '2026-11-28T10:00:00+08:00',
  updated_by: { id: 1, name: '系统管理员' },
}
const PLACEHOLDERS: Placeholder[] = [
  { name: 'amount', token: '{{amount}}', label: '借款金额(小写)', zh: '借款金额(小写)', en: 'Amount', block: false, group: 'contract' },
  { name: 'schedule_table', token: '{{schedule_table}}', label: '还款计划表', zh: '还款计划表', en: 'Schedule', block: true, group: 'block' },
  { name: 'form.purpose', token: '{{form.purpose}}', label: '用途', zh: '申请表:用途', en: 'Application: Purpose', block: false, group: 'form' },
]
const body = () => wrapper!.find<HTMLTextAreaElement>('textarea[data-testid="contract-template-body"]')
const patches = (calls: MockRequest[]) => calls.filter((c) => c.method === 'PATCH')

async function openEditor(routes: Parameters<typeof mockFetch>[0] = {}) {
  const mocked = mockFetch({
    'GET /auth/me': { body: admin },
    'GET /contracts/templates/loan_contract': { body: TEMPLATE },
    'GET /contracts/templates/placeholders': { body: PLACEHOLDERS },
    ...routes,
  })
  const app = await mountApp('/manage/contract-templates/loan_contract')
  wrapper = app.wrapper
  await waitFor(() => body().exists() && body().element.value === TEMPLATE.body)
  return mocked
}

describe('ContractTemplateEditView', () => {
  it('inserts a placeholder at the cursor and saves with the loaded version', async () => {
    const { calls } = await openEditor({
      'PATCH /contracts/templates/loan_contract': (req) => ({
        body: { ...TEMPLATE, ...(req.body as object), version: 4 },
      }),
    })
    const el = body().element
    el.setSelectionRange(5, 5)
    await body().trigger('blur')
    await wrapper!.find('[data-testid="contract-template-insert"]').trigger('click')
    await waitFor(() => document.querySelector('[data-testid="placeholder-amount"]') !== null)
    ;(document.querySelector('[data-testid="placeholder-amount"]') as HTMLElement).click()
    await settle()
    expect(body().element.value).toBe('借款金额 {{amount}}元\n\n{{signatures}}')

    await wrapper!.find('[data-testid="contract-template-form"]').trigger('submit')
    await settle()
    const [patch] = patches(calls)
    expect(patch!.body).toEqual({
      name: '个人借款合同',
      body: '借款金额 {{amount}}元\n\n{{signatures}}',
      is_active: true,
      version: 3,
    })
    await waitFor(() => wrapper!.text().includes('第 4 版'))
  })

  it('shows the server message under the body and selects the bad placeholder', async () => {
    const message = '第 1 行:未知的占位符 {{rate}}'
    await openEditor({
      'PATCH /contracts/templates/loan_contract': apiError(422, 'contracts.unknown_placeholder', message, {
        fields: { body: message },
        placeholder: { name: 'rate', line: 1, offset: 5, length: 8 },
      }),
    })
    await body().setValue('借款利率 {{rate}}')
    await wrapper!.find('[data-testid="contract-template-form"]').trigger('submit')
    await waitFor(() => wrapper!.find('.van-field__error-message').exists())
    expect(wrapper!.find('.van-field__error-message').text()).toBe(message)
    expect([body().element.selectionStart, body().element.selectionEnd]).toEqual([5, 13])
  })

  it('previews the unsaved text as a PDF blob', async () => {
    const { fn } = await openEditor()
    const pdf = new TextEncoder().encode('%PDF-1.4\n<< /Type /Page >>\n<< /Type /Page >>\n%%EOF')
    const json = fn.getMockImplementation()!
    const previews: unknown[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
        if (String(input).endsWith('/contracts/templates/loan_contract/preview')) {
          previews.push(JSON.parse(String(init.body)))
          expect(new Headers(init.headers).get('X-CSRFToken')).toBe('tok')
          return new Response(pdf, { headers: { 'Content-Type': 'application/pdf' } })
        }
        return json(input, init)
      }),
    )
    await body().setValue('# 新条款\n\n{{amount}}')
    await wrapper!.find('[data-testid="contract-template-preview"]').trigger('click')
    await waitFor(() => document.querySelector('[data-testid="contract-preview-open"][href="blob:preview"]') !== null)
    expect(previews).toEqual([{ body: '# 新条款\n\n{{amount}}' }])
    expect(document.querySelector('[data-testid="contract-preview-meta"]')!.textContent).toContain('2 页')
    expect(document.querySelector('[data-testid="contract-preview-download"]')!.getAttribute('download')).toBe(
      'loan_contract-preview.pdf',
    )
  })

  it('is not reachable without contracts.manage_templates', async () => {
    mockFetch({ 'GET /auth/me': { body: officer } })
    const app = await mountApp('/manage/contract-templates/loan_contract')
    wrapper = app.wrapper
    await settle()
    expect(app.router.currentRoute.value.path).not.toBe('/manage/contract-templates/loan_contract')
  })
})

describe('ContractTemplatesView', () => {
  it('lists the templates with version and state', async () => {
    mockFetch({
      'GET /auth/me': { body: admin },
      'GET /contracts/templates': {
        body: [
          { ...TEMPLATE, body: undefined },
          { ...TEMPLATE, code: 'old', name: '旧合同', is_active: false, version: 1, updated_by: null },
        ],
      },
    })
    const app = await mountApp('/manage/contract-templates')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="contract-template-old"]').exists())
    const first = wrapper!.find('[data-testid="contract-template-loan_contract"]').text()
    expect(first).toContain('个人借款合同')
    expect(first).toContain('第 3 版')
    expect(wrapper!.find('[data-testid="contract-template-old"]').text()).toContain('已停用')
  })
})

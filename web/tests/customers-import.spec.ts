import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { CustomerImport, ImportReport as Report } from '@/api/customers'
import ImportReport from '@/components/customers/ImportReport.vue'
import { currentLocale, i18n, setLocale } from '@/i18n'
import { vantPlugin } from '@/plugins/vant'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  setLocale('zh-CN', { persist: false })
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

const report: Report = {
  total_rows: 1000,
  create_rows: 997,
  error_rows: 3,
  duplicate_rows: 0,
  new_tags: ['导入'],
  rows: [
    { row: 12, status: 'error', name: '张三', errors: { id_number: '身份证号: 校验位不正确' }, duplicate_of: null },
    { row: 345, status: 'error', name: '李四', errors: { phone: '手机号: 不是有效的手机号' }, duplicate_of: null },
    {
      row: 1001,
      status: 'error',
      name: '',
      errors: { name: '姓名/名称: 必填', monthly_income: '月收入(元): 格式不正确' },
      duplicate_of: null,
    },
  ],
  rows_truncated: false,
  committed: false,
  created_count: 0,
}

describe('import report', () => {
  it('lists exactly the failing rows with their field messages', () => {
    wrapper = mount(ImportReport, { props: { report, skipBadRows: false }, global: { plugins: [i18n, vantPlugin] } })
    const rows = wrapper.findAll('[data-testid^="import-row-"]')
    expect(rows.map((r) => r.attributes('data-testid'))).toEqual(['import-row-12', 'import-row-345', 'import-row-1001'])
    expect(rows[0]!.text()).toContain('第 12 行')
    expect(rows[0]!.text()).toContain('身份证号: 校验位不正确')
    expect(rows[2]!.findAll('li').map((li) => li.attributes('data-field'))).toEqual(['name', 'monthly_income'])
    expect(wrapper.find('[data-testid="import-stat-error"]').text()).toContain('3')
    expect(wrapper.find('[data-testid="import-stat-create"]').text()).toContain('997')
    // Errors block the import unless bad rows are skipped.
    expect(wrapper.find('[data-testid="import-summary"]').text()).toContain('有 3 行错误')
  })

  it('says how many will be imported when bad rows are skipped', async () => {
    wrapper = mount(ImportReport, { props: { report, skipBadRows: true }, global: { plugins: [i18n, vantPlugin] } })
    expect(wrapper.find('[data-testid="import-summary"]').text()).toContain('可以导入 997 位客户')
  })
})

const uploaded: CustomerImport = {
  id: 5,
  status: 'uploaded',
  original_name: '客户名单.xlsx',
  size: 48_000,
  sheet_name: 'Sheet1',
  header_row: 1,
  columns: [
    { header: '姓名', letter: 'A', suggested_field: 'name', samples: ['张三', '李四'] },
    { header: '身份证', letter: 'B', suggested_field: 'id_number', samples: ['110***********1234'] },
    { header: '备用', letter: 'C', suggested_field: null, samples: [] },
  ],
  suggested_mapping: { 姓名: 'name', 身份证: 'id_number' },
  mapping: {},
  skip_bad_rows: false,
  fields: [
    { key: 'name', label: '姓名/名称', required: true },
    { key: 'id_number', label: '身份证号', required: false },
    { key: 'remark', label: '备注', required: false },
  ],
  report: null,
  created_count: 0,
  created_at: '2026-11-28T01:00:00Z',
  committed_at: null,
  progress: { rows_done: 0, rows_total: 0 },
  failure: null,
}

describe('import screen', () => {
  it('prefills the mapping, dry-runs it and renders the report', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: makeMe({ permissions: ['customers.view', 'customers.create', 'customers.import'] }) },
      'GET /customers/meta': { body: {} },
      'GET /customers/tags': { body: [] },
      'GET /customers/imports/5': { body: uploaded },
      'POST /customers/imports/5/dry-run': { body: report },
    })
    const app = await mountApp('/customers/import?id=5')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="import-mapping"]').exists())
    expect(wrapper.find('[data-testid="import-map-A"]').text()).toContain('姓名/名称')
    expect(wrapper.find('[data-testid="import-map-B"]').text()).toContain('身份证号')
    expect(wrapper.find('[data-testid="import-map-C"]').text()).toContain('不导入')

    await wrapper.find('[data-testid="import-dry-run"]').trigger('click')
    await waitFor(() => wrapper!.find('[data-testid="import-report"]').exists())
    const dry = calls.find((c) => c.method === 'POST')!
    expect(dry.body).toEqual({ mapping: { 姓名: 'name', 身份证: 'id_number', 备用: null }, skip_bad_rows: false })
    expect(wrapper.findAll('[data-testid^="import-row-"]').map((r) => r.attributes('data-testid'))).toEqual([
      'import-row-12',
      'import-row-345',
      'import-row-1001',
    ])
    // 3 bad rows and no skipping: commit stays disabled until the switch is on.
    expect(wrapper.find('[data-testid="import-commit"]').attributes('disabled')).toBeDefined()
    await wrapper.find('[data-testid="import-skip-bad"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="import-commit"]').attributes('disabled')).toBeUndefined()
  })
})

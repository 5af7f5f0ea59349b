import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { reportTabs, resolvable, shiftPeriod, type Statement, type StatementLine } from '@/api/accounting'
import { accountingEn, accountingZh } from '@/locales/modules/accounting'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const finance = makeMe({
  permissions: ['accounting.export', 'accounting.import_statements', 'accounting.manage', 'lending.request_write_off'],
})

function line(over: Partial<StatementLine>): StatementLine {
  return {
    id: 1,
    row_no: 4,
    value_date: '2026-02-10',
    amount: '1800.00',
    payer_name: '张三',
    payer_account: '**** **** **** 1111',
    memo: '还款',
    serial: 'SN0001',
    status: 'matched',
    reason: '',
    reason_text: '',
    matched_by: 'contract_no',
    loan: null,
    candidates: [],
    repayment_id: null,
    error: '',
    ...over,
  }
}

const loanA = { id: 11, contract_no: 'HT202601100001', customer_name: '王五', status: 'active', outstanding_principal: '10000.00' }
const loanB = { id: 12, contract_no: 'HT202601100002', customer_name: '王五', status: 'active', outstanding_principal: '12000.00' }

const uploaded: Statement = {
  id: 5,
  original_name: '流水.csv',
  file_kind: 'csv',
  status: 'uploaded',
  header_row: 3,
  headers: ['交易日期', '流水号', '贷方发生额', '对方户名', '对方账号', '摘要'],
  row_count: 2,
  fields: ['date', 'amount', 'credit', 'debit', 'direction', 'payer_name', 'payer_account', 'memo', 'serial'],
  suggested_mapping: { date: '交易日期', credit: '贷方发生额', serial: '流水号', memo: '摘要' },
  mapping: {},
  samples: [],
  counts: {},
  amounts: {},
  lines: [],
  created_at: '2026-02-10T02:00:00Z',
}
const checked: Statement = {
  ...uploaded,
  status: 'checked',
  counts: { matched: 1, ambiguous: 1, unmatched: 0, duplicate: 0 },
  lines: [
    line({ id: 1, row_no: 4, loan: loanA }),
    line({ id: 2, row_no: 5, serial: 'SN0002', status: 'ambiguous', matched_by: '', candidates: [loanA, loanB] }),
  ],
}

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

describe('accounting helpers', () => {
  it('shifts periods across years', () => {
    expect(shiftPeriod('2026-01', -1)).toBe('2025-12')
    expect(shiftPeriod('2026-12', 1)).toBe('2027-01')
    expect(shiftPeriod('2026-05', 0)).toBe('2026-05')
  })

  it('groups report lines into tabs and knows which can be resolved by hand', () => {
    const tabs = reportTabs([
      line({ status: 'matched' }),
      line({ status: 'posted' }),
      line({ status: 'unmatched' }),
      line({ status: 'failed' }),
      line({ status: 'ambiguous' }),
      line({ status: 'duplicate' }),
      line({ status: 'skipped' }),
    ])
    expect([tabs.matched.length, tabs.unmatched.length, tabs.ambiguous.length, tabs.other.length]).toEqual([2, 2, 1, 2])
    expect(resolvable(line({ status: 'ambiguous' }))).toBe(true)
    expect(resolvable(line({ status: 'duplicate' }))).toBe(false)
  })

  it('has English texts without CJK characters', () => {
    expect(JSON.stringify(accountingEn)).not.toMatch(/[\u4e00-\u9fff]/)
    expect(Object.keys(accountingEn)).toEqual(Object.keys(accountingZh))
  })
})

describe('bank statement import page', () => {
  it('uploads, maps, shows the dry-run report and posts with the chosen loan', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: finance },
      'POST /accounting/statements': { status: 201, body: uploaded },
      'POST /accounting/statements/5/dry-run': { body: checked },
      'POST /accounting/statements/5/post': {
        body: {
          ...checked,
          status: 'posted',
          counts: { posted: 2 },
          lines: checked.lines.map((l) => ({ ...l, status: 'posted' })),
        },
      },
    })
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined }))
    const app = await mountApp('/accounting/statements')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('input[type="file"]').exists())
    const input = wrapper.find('input[type="file"]')
    Object.defineProperty(input.element, 'files', { value: [new File(['交易日期,金额\n'], '流水.csv')] })
    await input.trigger('change')
    await waitFor(() => wrapper!.find('[data-testid="si-mapping"]').exists())
    expect(wrapper.find('[data-testid="si-map-credit"]').text()).toContain('贷方发生额')

    await wrapper.find('[data-testid="si-dry-run"]').trigger('click')
    await waitFor(() => wrapper!.find('[data-testid="si-report"]').exists())
    const dry = calls.find((c) => c.path === '/accounting/statements/5/dry-run')
    expect(dry?.body).toEqual({ mapping: uploaded.suggested_mapping })
    expect(wrapper.find('[data-testid="si-count-matched"]').text()).toContain('1')
    expect(wrapper.find('[data-testid="si-post"]').text()).toContain('1')

    // The ambiguous row: choose a loan.
    const tabs = wrapper.findAll('.van-tab')
    await tabs[2]!.trigger('click')
    await settle()
    await waitFor(() => wrapper!.find('[data-testid="si-candidate-5-12"]').exists())
    await wrapper.find('[data-testid="si-candidate-5-12"]').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="si-post"]').text()).toContain('2')

    await wrapper.find('[data-testid="si-post"]').trigger('click')
    await settle()
    ;(document.querySelector('.van-dialog__confirm') as HTMLElement).click()
    await settle()
    const post = calls.find((c) => c.path === '/accounting/statements/5/post')
    expect(post?.body).toEqual({ resolutions: [{ line_id: 2, loan_id: 12 }] })
    await waitFor(() => wrapper!.find('[data-testid="si-to-journal"]').exists())
  })
})

describe('write-off page', () => {
  it('shows what is owed and submits the reason, then links to the approval', async () => {
    const preview = {
      loan: {
        id: 7,
        contract_no: 'HT202510100001',
        status: 'overdue',
        customer_name: '赵六',
        days_past_due: 140,
        bucket: 'M3+',
        classification: 'doubtful',
      },
      on: '2026-03-01',
      principal: '10000.00',
      due_principal: '4000.00',
      interest: '420.00',
      fee: '0.00',
      penalty: '35.20',
      total: '10455.20',
      can_request: true,
      pending: false,
      latest: null,
    }
    const { calls } = mockFetch({
      'GET /auth/me': { body: finance },
      'GET /accounting/write-offs/preview': { body: preview },
      'POST /accounting/write-offs': {
        status: 201,
        body: {
          id: 3,
          loan_id: 7,
          contract_no: 'HT202510100001',
          customer_name: '赵六',
          reason: '失联',
          owed_on: '2026-03-01',
          principal: '10000.00',
          interest: '420.00',
          fee: '0.00',
          penalty: '35.20',
          total: '10455.20',
          status: 'pending',
          instance: { id: 44, status: 'running', current_node_name: '风控审核' },
          requested_by: { id: 5, full_name: '钱会计' },
          created_at: '2026-03-01T02:00:00Z',
          written_off_at: null,
        },
      },
    })
    const app = await mountApp('/lending/loans/7/write-off')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="wo-total"]').exists())
    expect(wrapper.find('[data-testid="wo-total"]').text()).toContain('¥10,455.20')
    expect(wrapper.find('[data-testid="wo-loan"]').text()).toContain('逾期 140 天')
    expect(calls.find((c) => c.path === '/accounting/write-offs/preview')?.url.searchParams.get('loan_id')).toBe('7')

    await wrapper.find('[data-testid="wo-submit"]').trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'POST')).toBe(false) // the reason is required
    await wrapper.find('[data-testid="wo-reason"] textarea').setValue('失联')
    await wrapper.find('[data-testid="wo-submit"]').trigger('click')
    await waitFor(() => wrapper!.find('[data-testid="wo-approval-link"]').exists())
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ loan_id: 7, reason: '失联' })
    expect(wrapper.find('[data-testid="wo-node"]').text()).toBe('风控审核')
  })
})

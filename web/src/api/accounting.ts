import { http, type RequestOptions } from './client'
import { filenameFrom, rawRequest, saveBlob, type DownloadedFile } from './customers'

/** Maintain the chart of accounts and the posting map. */
export const MANAGE_ACCOUNTING_PERM = 'accounting.manage'
/** View the journal and export vouchers (Kingdee / Yonyou). */
export const EXPORT_VOUCHERS_PERM = 'accounting.export'
/** Import bank statements and post them as repayments. */
export const IMPORT_STATEMENTS_PERM = 'accounting.import_statements'
/** Request a loan write-off (核销). */
export const REQUEST_WRITE_OFF_PERM = 'lending.request_write_off'

export type AccountType = 'asset' | 'liability' | 'equity' | 'income' | 'expense'
export const ACCOUNT_TYPES: readonly AccountType[] = ['asset', 'liability', 'equity', 'income', 'expense']

export interface Account {
  id: number
  code: string
  name: string
  name_en: string
  type: AccountType
  parent_code: string | null
  active: boolean
}

export interface PostingRule {
  component: string
  label: string
  debit: Account | null
  credit: Account | null
}

export interface JournalLine {
  line_no: number
  account_code: string
  account_name: string
  debit: string
  credit: string
}

export interface JournalEntry {
  id: number
  date: string
  period: string
  voucher: string
  voucher_no: number
  topic: string
  description: string
  contract_no: string
  loan_id: number | null
  customer: { id: number; name: string } | null
  total_debit: string
  total_credit: string
  balanced: boolean
  off_books: Record<string, string>
  lines: JournalLine[]
}

export interface JournalPage {
  items: JournalEntry[]
  count: number
  page: number
  page_size: number
}

export interface JournalSummary {
  period: string
  entries: number
  total_debit: string
  total_credit: string
  balanced: boolean
}

export type VoucherLayout = 'kingdee' | 'yonyou'

export type StatementField =
  | 'date'
  | 'amount'
  | 'credit'
  | 'debit'
  | 'direction'
  | 'payer_name'
  | 'payer_account'
  | 'memo'
  | 'serial'

export type LineStatus =
  | 'matched'
  | 'unmatched'
  | 'ambiguous'
  | 'duplicate'
  | 'invalid'
  | 'skipped'
  | 'posted'
  | 'failed'

export interface LoanRef {
  id: number
  contract_no: string
  customer_name: string
  status: string
  outstanding_principal: string
}

export interface StatementLine {
  id: number
  row_no: number
  value_date: string | null
  amount: string | null
  payer_name: string
  payer_account: string
  memo: string
  serial: string
  status: LineStatus
  reason: string
  reason_text: string
  matched_by: string
  loan: LoanRef | null
  candidates: LoanRef[]
  repayment_id: number | null
  error: string
}

export interface Statement {
  id: number
  original_name: string
  file_kind: 'csv' | 'xlsx'
  status: 'uploaded' | 'checked' | 'posted'
  header_row: number
  headers: string[]
  row_count: number
  fields: StatementField[]
  suggested_mapping: Partial<Record<StatementField, string>>
  mapping: Partial<Record<StatementField, string>>
  samples: string[][]
  counts: Partial<Record<LineStatus, number>>
  amounts: Partial<Record<LineStatus, string>>
  lines: StatementLine[]
  created_at: string
}

export interface Resolution {
  line_id: number
  loan_id: number
}

export interface WriteOffRequest {
  id: number
  loan_id: number
  contract_no: string
  customer_name: string
  reason: string
  owed_on: string
  principal: string
  interest: string
  fee: string
  penalty: string
  total: string
  status: 'pending' | 'approved' | 'written_off' | 'closed'
  instance: { id: number; status: string; current_node_name: string } | null
  requested_by: { id: number; full_name: string }
  created_at: string
  written_off_at: string | null
}

export interface WriteOffPreview {
  loan: {
    id: number
    contract_no: string
    status: string
    customer_name: string
    days_past_due: number
    bucket: string
    classification: string
  }
  on: string
  principal: string
  due_principal: string
  interest: string
  fee: string
  penalty: string
  total: string
  can_request: boolean
  pending: boolean
  latest: WriteOffRequest | null
}

type Options = Omit<RequestOptions, 'body'>

export const accountingApi = {
  accounts: (options?: Options) => http.get<Account[]>('/accounting/accounts', undefined, options),
  createAccount: (
    body: { code: string; name: string; name_en?: string; type: AccountType; parent_code?: string | null },
    options?: Options,
  ) => http.post<Account>('/accounting/accounts', body, options),
  updateAccount: (id: number, body: { name?: string; name_en?: string; active?: boolean }, options?: Options) =>
    http.patch<Account>(`/accounting/accounts/${id}`, body, options),
  postingRules: (options?: Options) => http.get<PostingRule[]>('/accounting/posting-rules', undefined, options),
  setPostingRule: (component: string, body: { debit_code: string; credit_code: string }, options?: Options) =>
    http.put<PostingRule[]>(`/accounting/posting-rules/${encodeURIComponent(component)}`, body, options),

  journal: (period: string, page = 1, pageSize = 20, options?: Options) =>
    http.get<JournalPage>('/accounting/journal', { period, page, page_size: pageSize }, options),
  journalSummary: (period: string, options?: Options) =>
    http.get<JournalSummary>('/accounting/journal/summary', { period }, options),
  /** The period's vouchers as .xlsx in the Kingdee or Yonyou import layout. */
  exportVouchers: async (period: string, layout: VoucherLayout): Promise<DownloadedFile> => {
    const res = await rawRequest('GET', '/accounting/vouchers/export', { query: { period, layout } })
    return { blob: await res.blob(), filename: filenameFrom(res, `vouchers-${layout}-${period}.xlsx`) }
  },

  uploadStatement: async (file: File, quiet = false): Promise<Statement> => {
    const form = new FormData()
    form.append('file', file, file.name)
    const res = await rawRequest('POST', '/accounting/statements', { body: form, quiet })
    return (await res.json()) as Statement
  },
  statement: (id: number, options?: Options) => http.get<Statement>(`/accounting/statements/${id}`, undefined, options),
  dryRun: (id: number, mapping: Partial<Record<StatementField, string>>, options?: Options) =>
    http.post<Statement>(`/accounting/statements/${id}/dry-run`, { mapping }, options),
  post: (id: number, resolutions: Resolution[], options?: Options) =>
    http.post<Statement>(`/accounting/statements/${id}/post`, { resolutions }, options),

  writeOffPreview: (loanId: number, options?: Options) =>
    http.get<WriteOffPreview>('/accounting/write-offs/preview', { loan_id: loanId }, options),
  requestWriteOff: (loanId: number, reason: string, options?: Options) =>
    http.post<WriteOffRequest>('/accounting/write-offs', { loan_id: loanId, reason }, options),
  writeOff: (id: number, options?: Options) => http.get<WriteOffRequest>(`/accounting/write-offs/${id}`, undefined, options),
}

export { saveBlob }

/** `d`'s month as YYYY-MM. */
export function periodOf(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
}

/** Shift a YYYY-MM period by `months`. */
export function shiftPeriod(period: string, months: number): string {
  const [y = 1970, m = 1] = period.split('-').map(Number)
  const total = y * 12 + (m - 1) + months
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`
}

/** Lines the user may resolve by choosing a loan. */
export function resolvable(line: StatementLine): boolean {
  return line.status === 'ambiguous' || line.status === 'unmatched' || line.status === 'failed'
}

/** Group a statement's lines into the dry-run report's tabs. */
export function reportTabs(lines: StatementLine[]): Record<'matched' | 'unmatched' | 'ambiguous' | 'other', StatementLine[]> {
  const out = { matched: [] as StatementLine[], unmatched: [] as StatementLine[], ambiguous: [] as StatementLine[], other: [] as StatementLine[] }
  for (const line of lines) {
    if (line.status === 'matched' || line.status === 'posted') out.matched.push(line)
    else if (line.status === 'unmatched' || line.status === 'failed') out.unmatched.push(line)
    else if (line.status === 'ambiguous') out.ambiguous.push(line)
    else out.other.push(line)
  }
  return out
}

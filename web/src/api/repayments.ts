import { http, type RequestOptions } from './client'
import { newIdempotencyKey } from './lending'
import type { Page } from './types'

/** Post repayments and prepayments (finance). */
export const POST_REPAYMENT_PERM = 'lending.post_repayment'
/** Reverse (红冲) a repayment. */
export const REVERSE_REPAYMENT_PERM = 'lending.reverse_repayment'
/** Ask for a write-off (核销); the page is another feature's. */
export const REQUEST_WRITE_OFF_PERM = 'lending.request_write_off'

export const CHANNELS = ['bank_transfer', 'cash', 'wechat', 'alipay', 'deduction', 'other'] as const
export type Channel = (typeof CHANNELS)[number]
export const PREPAYMENT_MODES = ['keep_term', 'keep_installment'] as const
export type PrepaymentMode = (typeof PREPAYMENT_MODES)[number]
export type RepaymentKind = 'repayment' | 'partial_prepayment' | 'full_prepayment'

export interface Allocation {
  seq: number
  due_date: string
  principal: string
  interest: string
  fee: string
  penalty: string
  total: string
}

interface UserRef {
  id: number
  username: string
  full_name: string
}

export interface Repayment {
  id: number
  loan_id: number
  contract_no: string
  customer: { id: number; name: string }
  kind: RepaymentKind
  prepayment_mode: string
  amount: string
  value_date: string
  channel: Channel
  reference: string
  source: string
  principal: string
  interest: string
  fee: string
  penalty: string
  credit: string
  status: 'posted' | 'reversed'
  created_by: UserRef | null
  created_at: string
  reversed_by: UserRef | null
  reversed_at: string | null
  reversed_on: string | null
  reversal_reason: string
  replayed: boolean
  allocations: Allocation[] | null
}

export interface LoanRepayments {
  items: Repayment[]
  credit: string
}

export interface OwedLine {
  seq: number
  due_date: string
  principal: string
  interest: string
  fee: string
  penalty: string
  total: string
}

export interface OwedToday {
  on: string
  principal: string
  interest: string
  fee: string
  penalty: string
  total: string
  installments: OwedLine[]
  /** The first unpaid installment not yet due: what paying early (提前还当期) settles. */
  current_period: OwedLine | null
}

export interface PayoffQuote {
  as_of: string
  loan_id: number
  contract_no: string
  due: { principal: string; interest: string; fee: string; penalty: string; total: string }
  payoff: {
    principal: string
    interest: string
    fee: string
    prepayment_fee: string
    total: string
    prepaid_principal: string
  } | null
  partial: {
    mode: PrepaymentMode
    principal: string
    interest: string
    prepayment_fee: string
    total: string
    schedule: { seq: number; due_date: string; principal: string; interest: string; fee: string; total: string }[]
  } | null
  modes: PrepaymentMode[]
  prepayment_fee_percent: string
  max_partial_principal?: string | null
}

export interface RepaymentRequest {
  amount: string
  value_date: string
  channel: Channel | ''
  reference: string
  idempotency_key: string
}

export interface PrepaymentRequest {
  full: boolean
  principal?: string
  mode?: PrepaymentMode
  amount: string
  value_date: string
  channel: Channel | ''
  reference: string
  idempotency_key: string
}

export interface RepaymentQuery {
  customer_id?: number
  loan_id?: number
  q?: string
  channel?: Channel
  date_from?: string
  date_to?: string
  reversed?: boolean
  page?: number
  page_size?: number
}

type Options = Omit<RequestOptions, 'body'>

export const repaymentsApi = {
  owedToday: (loanId: number, options?: Options) =>
    http.get<OwedToday>(`/postloan/loans/${loanId}/owed-today`, undefined, options),
  forLoan: (loanId: number, options?: Options) =>
    http.get<LoanRepayments>(`/lending/loans/${loanId}/repayments`, undefined, options),
  list: (query: RepaymentQuery, options?: Options) =>
    http.get<Page<Repayment>>('/lending/repayments', { ...query }, options),
  get: (id: number, options?: Options) => http.get<Repayment>(`/lending/repayments/${id}`, undefined, options),
  /** 201 for a new repayment, 200 (replayed) when the key was already used for this body. */
  post: (loanId: number, body: RepaymentRequest, options?: Options) =>
    http.post<Repayment>(`/lending/loans/${loanId}/repayments`, body, options),
  reverse: (id: number, reason: string, options?: Options) =>
    http.post<Repayment>(`/lending/repayments/${id}/reverse`, { reason }, options),
  quote: (loanId: number, query: { date?: string; principal?: string; mode?: PrepaymentMode }, options?: Options) =>
    http.get<PayoffQuote>(`/lending/loans/${loanId}/payoff-quote`, { ...query }, options),
  prepay: (loanId: number, body: PrepaymentRequest, options?: Options) =>
    http.post<Repayment>(`/lending/loans/${loanId}/prepayments`, body, options),
}

/**
 * One idempotency key per form submission: the key is made when the user submits, and kept
 * while the same body is retried (a double tap, a timeout, a lost answer) so the server answers
 * with the repayment it already posted. A changed body, or a success, starts a new submission.
 */
export function createSubmission(generate: () => string = newIdempotencyKey) {
  let body: string | null = null
  let key = ''
  return {
    keyFor(currentBody: unknown): string {
      const text = JSON.stringify(currentBody)
      if (text !== body) {
        body = text
        key = generate()
      }
      return key
    },
    done(): void {
      body = null
      key = ''
    },
  }
}

/** A yuan amount as the server accepts it: digits with at most two decimals, above zero. */
export function cleanAmount(value: string): string | null {
  const text = value.replace(/[,\s，]/g, '')
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null
  if (Number(text) <= 0) return null
  return text
}

/** Non-zero components of an allocation, for a compact display. */
export function allocationParts(a: Pick<Allocation, 'principal' | 'interest' | 'fee' | 'penalty'>) {
  return (['principal', 'interest', 'fee', 'penalty'] as const)
    .filter((k) => Number(a[k]) !== 0)
    .map((k) => ({ key: k, amount: a[k] }))
}

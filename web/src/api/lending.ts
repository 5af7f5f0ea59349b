import { http, type RequestOptions } from './client'
import type {
  CalculatorWarning,
  CapCheck,
  CapLine,
  DayCount,
  FeeKind,
  Frequency,
  InterestPeriod,
  RepaymentMethod,
  ScheduleRow,
  Page,
  ScheduleTotals,
} from './types'

/** Permission codes of the lending pages (superusers pass). */
export const MANAGE_PRODUCTS_PERM = 'lending.manage_products'
export const DISBURSE_PERM = 'lending.disburse'
export const VIEW_LOANS_PERM = 'lending.view_loans'

export const ALLOCATION_COMPONENTS = ['penalty', 'fee', 'interest', 'principal'] as const
export type AllocationComponent = (typeof ALLOCATION_COMPONENTS)[number]
export const ALLOCATION_STRATEGIES = ['installment_first', 'component_first'] as const
export type AllocationStrategy = (typeof ALLOCATION_STRATEGIES)[number]
export const OVERPAYMENTS = ['credit', 'prepay'] as const
export type OverpaymentPolicy = (typeof OVERPAYMENTS)[number]
export const CAP_POLICIES = ['refuse', 'flag'] as const
export type CapPolicy = (typeof CAP_POLICIES)[number]
export const LOAN_STATUSES = ['active', 'overdue', 'closed', 'written_off'] as const
export type LoanStatus = (typeof LOAN_STATUSES)[number]

/** A loan product. Amounts are yuan and rates percent, as decimal strings. */
export interface Product {
  id: number
  code: string
  name: string
  method: RepaymentMethod
  frequency: Frequency
  interest_period: InterestPeriod
  day_count: DayCount
  min_amount: string
  max_amount: string
  min_periods: number
  max_periods: number
  min_rate: string
  max_rate: string
  installment_multiple: string
  holiday_shift: boolean
  penalty_rate_multiplier: string
  grace_days: number
  compound_penalty: boolean
  allocation_order: AllocationComponent[]
  allocation_strategy: AllocationStrategy
  overpayment: OverpaymentPolicy
  upfront_fee_percent: string
  period_fee_kind: FeeKind
  /** Yuan when period_fee_kind is "fixed", percent of the principal when "percent". */
  period_fee: string
  prepayment_fee_percent: string
  cap_line: CapLine
  cap_policy: CapPolicy
  /** The cap line's rate today (percent), for display. */
  cap_rate: string
  active: boolean
  updated_at: string
}

export type ProductBody = Partial<Omit<Product, 'id' | 'cap_rate' | 'updated_at'>>

export interface QuoteRequest {
  amount: string
  periods: number
  annual_rate: string
  start?: string
  first_due?: string
}

export interface ProductQuote {
  installment: string
  rows: ScheduleRow[]
  totals: ScheduleTotals
  apr: string
  monthly_rate: string
  effective_annual_rate: string
  warnings: CalculatorWarning[]
  cap: CapCheck & { policy: CapPolicy }
  upfront_fee: string
  net_amount: string
  start: string
}

export interface DisburseRequest extends QuoteRequest {
  customer_id: number
  product_id: number
  account_name: string
  account_number: string
  bank_name: string
  /** Client-generated; the same key with the same terms returns the first loan. */
  idempotency_key: string
}

export interface Ref {
  id: number
  name: string
}
export interface UserRef {
  id: number
  username: string
  full_name: string
}

export interface LoanInstallment {
  seq: number
  due_date: string
  days: number
  opening_principal: string
  principal: string
  interest: string
  fee: string
  penalty: string
  total: string
  paid: string
  outstanding: string
  status: 'pending' | 'due' | 'overdue' | 'paid'
}

export interface LoanListItem {
  id: number
  contract_no: string
  status: LoanStatus
  customer: Ref
  product: Ref & { code: string }
  owner: UserRef | null
  principal: string
  annual_rate: string
  apr: string
  periods: number
  method: RepaymentMethod
  start_date: string
  maturity_date: string
  outstanding_principal: string
  days_past_due: number
  bucket: string
  disbursed_at: string
  next_due: { seq: number | null; due_date: string; amount: string } | null
}

export interface Loan extends LoanListItem {
  department: Ref | null
  frequency: Frequency
  first_due_date: string
  cap_rate: string
  cap_exceeded: boolean
  penalty_rate: string
  grace_days: number
  classification: string
  overdue_since: string | null
  installments: LoanInstallment[]
  totals: {
    principal: string
    interest: string
    fee: string
    penalty: string
    total: string
    paid: string
    outstanding: string
  }
  disbursement: {
    id: number
    amount: string
    upfront_fee: string
    net_amount: string
    value_date: string
    account_name: string
    /** Always masked (**** **** **** 1234). */
    account_number: string
    bank_name: string
    created_by: UserRef | null
    created_at: string
  } | null
  created_by: UserRef | null
}

/** The few customer fields the disbursement page shows (GET /customers/{id}). */
export interface CustomerSummary {
  id: number
  name: string
  kind: string
  status: string
  phone?: string
  owner?: { id: number; full_name: string } | null
}

type Options = Omit<RequestOptions, 'body'>

export const lendingApi = {
  products: (query: { active?: boolean } = {}, options?: Options) =>
    http.get<Product[]>('/lending/products', query, options),
  product: (id: number, options?: Options) => http.get<Product>(`/lending/products/${id}`, undefined, options),
  createProduct: (body: ProductBody, options?: Options) => http.post<Product>('/lending/products', body, options),
  updateProduct: (id: number, body: ProductBody, options?: Options) =>
    http.patch<Product>(`/lending/products/${id}`, body, options),
  quote: (productId: number, body: QuoteRequest, options?: Options) =>
    http.post<ProductQuote>(`/lending/products/${productId}/quote`, body, options),
  /** 201 for a new loan, 200 when the key was already used with the same terms. */
  disburse: (body: DisburseRequest, options?: Options) => http.post<Loan>('/lending/disbursements', body, options),
  loan: (id: number, options?: Options) => http.get<Loan>(`/lending/loans/${id}`, undefined, options),
  loans: (query: { customer_id?: number; status?: LoanStatus; page?: number; page_size?: number }, options?: Options) =>
    http.get<Page<LoanListItem>>('/lending/loans', query, options),
  customer: (id: number, options?: Options) => http.get<CustomerSummary>(`/customers/${id}`, undefined, options),
}

// ---- the disbursement form (pure helpers, unit-tested) ------------------------------------

export interface DisburseForm {
  customer_id: number | null
  product_id: number | null
  amount: string
  periods: string
  annual_rate: string
  start: string
  account_name: string
  account_number: string
  bank_name: string
}

export function emptyDisburseForm(start: string, customerId: number | null = null): DisburseForm {
  return {
    customer_id: customerId,
    product_id: null,
    amount: '',
    periods: '',
    annual_rate: '',
    start,
    account_name: '',
    account_number: '',
    bank_name: '',
  }
}

/** "100,000.00 " → "100000.00": strip grouping and spaces; amounts stay strings (never floats). */
export function cleanNumber(value: string): string {
  return value.replace(/[,\s，]/g, '')
}

export function buildQuoteRequest(form: DisburseForm): QuoteRequest {
  const body: QuoteRequest = {
    amount: cleanNumber(form.amount),
    periods: Number.parseInt(cleanNumber(form.periods), 10),
    annual_rate: cleanNumber(form.annual_rate),
  }
  if (form.start) body.start = form.start
  return body
}

export function buildDisburseRequest(form: DisburseForm, idempotencyKey: string): DisburseRequest {
  if (form.customer_id === null || form.product_id === null) throw new Error('customer and product are required')
  return {
    ...buildQuoteRequest(form),
    customer_id: form.customer_id,
    product_id: form.product_id,
    account_name: form.account_name.trim(),
    account_number: form.account_number.replace(/[\s-]/g, ''),
    bank_name: form.bank_name.trim(),
    idempotency_key: idempotencyKey,
  }
}

/** Everything that makes two disbursement requests "the same request". */
export function termsKey(form: DisburseForm): string {
  const { idempotency_key: _key, ...terms } = buildDisburseRequest(form, '')
  return JSON.stringify(terms)
}

/** A fresh idempotency key (UUID v4), also where crypto.randomUUID is missing (plain http). */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto
  if (c && typeof c.randomUUID === 'function') return c.randomUUID()
  const bytes = new Uint8Array(16)
  c.getRandomValues(bytes)
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * One idempotency key per set of terms: a retry of the same request (after a timeout, a lost
 * answer, a double tap) sends the same key, so the server answers with the loan it already made;
 * changed terms are a new request and get a new key.
 */
export function createKeyKeeper(generate: () => string = newIdempotencyKey) {
  let terms: string | null = null
  let key = ''
  return {
    keyFor(currentTerms: string): string {
      if (currentTerms !== terms) {
        terms = currentTerms
        key = generate()
      }
      return key
    },
  }
}

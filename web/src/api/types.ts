// Shapes of the LoanDesk API (/api/v1). Timestamps are ISO-8601 strings.

export interface Page<T> {
  items: T[]
  count: number
  page: number
  page_size: number
}

export interface DepartmentRef {
  id: number
  name: string
  path: string
}

export interface RoleRef {
  id: number
  code: string
  name: string
}

export interface Me {
  id: number
  username: string
  full_name: string
  phone: string
  email: string
  department: DepartmentRef | null
  roles: RoleRef[]
  permissions: string[]
  is_superuser: boolean
  otp_enabled: boolean
  otp_required: boolean
  language: string
  business_date: string
}

export interface LoginRequest {
  username: string
  password: string
  otp_code?: string
}

export interface ApiTokenInfo {
  id: number
  name: string
  prefix: string
  created_at: string
  last_used_at: string | null
  revoked: boolean
}

export interface CreatedApiToken {
  id: number
  name: string
  prefix: string
  created_at: string
  /** The full secret, returned once. */
  token: string
}

export interface OtpSetup {
  secret: string
  otpauth_url: string
  qr_png: string
}

export interface AdminUser {
  id: number
  username: string
  full_name: string
  phone: string
  email: string
  department: DepartmentRef | null
  roles: RoleRef[]
  is_active: boolean
  last_login: string | null
}

export interface UserListQuery {
  q?: string
  department_id?: number | null
  role_id?: number | null
  is_active?: boolean | null
  page?: number
  page_size?: number
}

export interface UserCreate {
  username: string
  full_name: string
  phone: string
  email: string
  department_id: number | null
  role_ids: number[]
  password: string
}

export type UserUpdate = Partial<{
  full_name: string
  phone: string
  email: string
  department_id: number | null
  role_ids: number[]
  is_active: boolean
  password: string
}>

export interface Department {
  id: number
  name: string
  parent_id: number | null
  head: { id: number; full_name: string } | null
  path: string
  user_count: number
}

export interface DepartmentCreate {
  name: string
  parent_id: number | null
  head_id?: number | null
}

export type DepartmentUpdate = Partial<{ name: string; parent_id: number | null; head_id: number | null }>

export type DataScope = 'self' | 'department' | 'department_tree' | 'all'
export const DATA_SCOPES: readonly DataScope[] = ['self', 'department', 'department_tree', 'all']

export interface Role {
  id: number
  code: string
  name: string
  data_scope: DataScope
  permissions: string[]
  user_count: number
}

export interface RoleCreate {
  code: string
  name: string
  data_scope: DataScope
  permissions: string[]
}

export type RoleUpdate = Partial<Omit<RoleCreate, 'code'>>

export interface Permission {
  code: string
  name: string
  group: string
}

export interface AuditEntry {
  id: number
  at: string
  actor: { id: number; username: string; full_name: string } | null
  action: string
  action_label: string
  target_type: string
  target_id: string
  target_label: string
  ip: string
  changes: Record<string, [unknown, unknown]>
  extra: Record<string, unknown>
}

export interface AuditQuery {
  actor_id?: number | null
  action?: string
  target_type?: string
  since?: string
  until?: string
  q?: string
  page?: number
  page_size?: number
}

export interface Health {
  status: string
  database: string
  version: string
  business_date: string
}

// ---- Loan calculator (/calculator/*). Amounts and rates are decimal strings ("1234.56", "6.00").

export const REPAYMENT_METHODS = ['equal_installment', 'equal_principal', 'interest_only', 'bullet', 'flat'] as const
export type RepaymentMethod = (typeof REPAYMENT_METHODS)[number]
export const FREQUENCIES = ['monthly', 'weekly', 'biweekly', 'quarterly', 'daily'] as const
export type Frequency = (typeof FREQUENCIES)[number]
export const INTEREST_PERIODS = ['period', 'daily'] as const
export type InterestPeriod = (typeof INTEREST_PERIODS)[number]
export const DAY_COUNTS = ['act/365', 'act/360', 'act/act', '30/360'] as const
export type DayCount = (typeof DAY_COUNTS)[number]
export const FEE_KINDS = ['fixed', 'percent'] as const
export type FeeKind = (typeof FEE_KINDS)[number]
export const CAP_LINES = ['judicial', '24', '36'] as const
export type CapLine = (typeof CAP_LINES)[number]

/** Inputs shared by /calculator/schedule, /compare and /payoff-quote; optional fields are omitted when empty. */
export interface CalculatorTerms {
  principal: string
  annual_rate: string
  periods: number | string
  start: string
  first_due?: string
  interest_period?: InterestPeriod
  day_count?: DayCount
  installment_multiple?: string
  frequency?: Frequency
  grace_periods?: number | string
  holiday_shift?: boolean
  due_day?: number | string
  upfront_fee?: string
  period_fee?: string
  period_fee_kind?: FeeKind
  cap_line?: CapLine
}

export interface ScheduleRequest extends CalculatorTerms {
  method: RepaymentMethod
}

export interface ScheduleRow {
  seq: number
  due_date: string
  days: number
  opening_balance: string
  principal: string
  interest: string
  fee: string
  total: string
  balance: string
}

export interface ScheduleTotals {
  principal: string
  interest: string
  fee: string
  total: string
}

export interface CalculatorWarning {
  code: string
  message: string
}

export interface CapCheck {
  line: CapLine
  rate: string
  exceeded: boolean
  message: string
}

export interface ScheduleQuote {
  installment: string
  rows: ScheduleRow[]
  totals: ScheduleTotals
  apr: string
  monthly_rate: string
  effective_annual_rate: string
  warnings: CalculatorWarning[]
  cap: CapCheck
}

export interface MethodComparison {
  method: RepaymentMethod
  installment: string
  first_total: string
  last_total: string
  total_interest: string
  total: string
  apr: string
}

export interface CompareResponse {
  methods: MethodComparison[]
}

export interface PayoffQuoteRequest extends ScheduleRequest {
  as_of: string
  prepayment_fee_percent?: string
}

export interface PayoffQuote {
  as_of: string
  principal: string
  interest: string
  fee: string
  penalty: string
  prepayment_fee: string
  total: string
}

import type {
  CalculatorTerms,
  CapLine,
  DayCount,
  FeeKind,
  Frequency,
  InterestPeriod,
  RepaymentMethod,
  ScheduleRequest,
} from '@/api/types'

/** What the calculator form holds: text exactly as typed, choices as API values. */
export interface CalculatorForm {
  principal: string
  annual_rate: string
  periods: string
  method: RepaymentMethod
  start: string
  // 更多设置
  first_due: string
  frequency: Frequency
  interest_period: InterestPeriod
  day_count: DayCount
  due_day: string
  grace_periods: string
  installment_multiple: string
  holiday_shift: boolean
  upfront_fee: string
  period_fee: string
  period_fee_kind: FeeKind
  cap_line: CapLine
}

export const INSTALLMENT_MULTIPLES = ['0.01', '1', '10'] as const

export function defaultCalculatorForm(start: string): CalculatorForm {
  return {
    principal: '100000',
    annual_rate: '12',
    periods: '12',
    method: 'equal_installment',
    start,
    first_due: '',
    frequency: 'monthly',
    interest_period: 'period',
    day_count: 'act/365',
    due_day: '',
    grace_periods: '',
    installment_multiple: '0.01',
    holiday_shift: false,
    upfront_fee: '',
    period_fee: '',
    period_fee_kind: 'fixed',
    cap_line: 'judicial',
  }
}

/** A due day of the month only makes sense for monthly and quarterly schedules. */
export const dueDayApplies = (f: CalculatorForm): boolean => f.frequency === 'monthly' || f.frequency === 'quarterly'
/** The day-count basis matters when interest accrues by the day. */
export const dayCountApplies = (f: CalculatorForm): boolean => f.interest_period === 'daily' || f.frequency === 'daily'

/** "1,000,000 " → "1000000": the amount stays a decimal string (never a JS number). */
export function cleanDecimal(value: string): string {
  return value.replace(/[\s,，_]/g, '').replace(/。/g, '.')
}

/** Whole numbers go as JSON integers; anything else as typed, for the server to explain. */
function integer(value: string): number | string {
  const v = value.trim()
  return /^\d{1,9}$/.test(v) ? Number(v) : v
}

/** The /calculator/compare body: every input except the repayment method; empty optionals omitted. */
export function buildTerms(f: CalculatorForm): CalculatorTerms {
  const body: CalculatorTerms = {
    principal: cleanDecimal(f.principal),
    annual_rate: cleanDecimal(f.annual_rate),
    periods: integer(f.periods),
    start: f.start,
    frequency: f.frequency,
    interest_period: f.interest_period,
    installment_multiple: f.installment_multiple,
    holiday_shift: f.holiday_shift,
    cap_line: f.cap_line,
  }
  if (f.first_due) body.first_due = f.first_due
  if (dayCountApplies(f)) body.day_count = f.day_count
  if (dueDayApplies(f) && f.due_day.trim()) body.due_day = integer(f.due_day)
  if (f.grace_periods.trim()) body.grace_periods = integer(f.grace_periods)
  if (f.upfront_fee.trim()) body.upfront_fee = cleanDecimal(f.upfront_fee)
  if (f.period_fee.trim()) {
    body.period_fee = cleanDecimal(f.period_fee)
    body.period_fee_kind = f.period_fee_kind
  }
  return body
}

/** The /calculator/schedule body. */
export function buildScheduleRequest(f: CalculatorForm): ScheduleRequest {
  return { ...buildTerms(f), method: f.method }
}

import { describe, expect, it } from 'vitest'
import { buildScheduleRequest, buildTerms, defaultCalculatorForm } from '@/utils/calculatorForm'
import { formatMoney, formatPercent } from '@/utils/format'

describe('formatMoney (string arithmetic only)', () => {
  it('groups thousands and adds the yuan sign', () => {
    expect(formatMoney('5307.27')).toBe('¥5,307.27')
    expect(formatMoney('1910616.19')).toBe('¥1,910,616.19')
    expect(formatMoney('0.05')).toBe('¥0.05')
    expect(formatMoney('1000')).toBe('¥1,000.00')
    expect(formatMoney('12.5')).toBe('¥12.50')
    expect(formatMoney('-1234.5')).toBe('-¥1,234.50')
    expect(formatMoney('-0.00')).toBe('¥0.00')
    expect(formatMoney('4083.33', { symbol: false })).toBe('4,083.33')
  })

  it('keeps every digit of amounts beyond float precision', () => {
    expect(formatMoney('9999999999999999.99')).toBe('¥9,999,999,999,999,999.99')
    expect(formatMoney('0.10')).toBe('¥0.10')
  })

  it('rounds extra decimals half-up, and passes through what is not a number', () => {
    expect(formatMoney('1.005')).toBe('¥1.01')
    expect(formatMoney('1.0049')).toBe('¥1.00')
    expect(formatMoney('99.995')).toBe('¥100.00')
    expect(formatMoney('abc')).toBe('abc')
    expect(formatMoney(null)).toBe('')
  })

  it('formats percents', () => {
    expect(formatPercent('6.17')).toBe('6.17%')
    expect(formatPercent('')).toBe('')
  })
})

describe('calculator request body', () => {
  const form = () => defaultCalculatorForm('2026-01-10')

  it('sends amounts as cleaned decimal strings and whole numbers as integers', () => {
    const f = { ...form(), principal: '1,000,000.00 ', annual_rate: ' 4.9', periods: '360' }
    expect(buildScheduleRequest(f)).toEqual({
      principal: '1000000.00',
      annual_rate: '4.9',
      periods: 360,
      method: 'equal_installment',
      start: '2026-01-10',
      frequency: 'monthly',
      interest_period: 'period',
      installment_multiple: '0.01',
      holiday_shift: false,
      cap_line: 'judicial',
    })
  })

  it('leaves a bad integer as typed for the server to explain', () => {
    expect(buildTerms({ ...form(), periods: '12.5' }).periods).toBe('12.5')
  })

  it('sends the day-count basis only for daily interest, the due day only for monthly/quarterly', () => {
    expect(buildTerms({ ...form(), interest_period: 'daily', day_count: 'act/360' }).day_count).toBe('act/360')
    expect(buildTerms({ ...form(), frequency: 'daily' }).day_count).toBe('act/365')
    expect(buildTerms(form())).not.toHaveProperty('day_count')
    expect(buildTerms({ ...form(), due_day: '31' }).due_day).toBe(31)
    expect(buildTerms({ ...form(), frequency: 'weekly', due_day: '31' })).not.toHaveProperty('due_day')
  })

  it('sends the period-fee kind only with a period fee', () => {
    expect(buildTerms({ ...form(), period_fee_kind: 'percent' })).not.toHaveProperty('period_fee_kind')
    expect(buildTerms({ ...form(), period_fee: '0.5', period_fee_kind: 'percent' })).toMatchObject({
      period_fee: '0.5',
      period_fee_kind: 'percent',
    })
    expect(buildTerms({ ...form(), first_due: '2026-02-15' }).first_due).toBe('2026-02-15')
  })
})

import { describe, expect, it } from 'vitest'
import { formatFen } from '@/utils/format'
import { buildSchedule, parseYuanToFen, type RepaymentMethod } from '@/utils/loan'

describe('loan calculator math', () => {
  it('parses yuan into integer fen without floating point', () => {
    expect(parseYuanToFen('100000')).toBe(10_000_000)
    expect(parseYuanToFen('0.1')).toBe(10)
    expect(parseYuanToFen('1,234.56')).toBe(123_456)
    expect(parseYuanToFen('0')).toBeNull()
    expect(parseYuanToFen('1.234')).toBeNull()
    expect(parseYuanToFen('-5')).toBeNull()
    expect(parseYuanToFen('abc')).toBeNull()
  })

  it('annuity: level payments, known value for 100,000 at 12% over 12 months', () => {
    const s = buildSchedule(10_000_000, 12, 12, 'annuity')
    expect(s.installments[0]!.payment).toBe(888_488) // 8,884.88
    expect(s.installments[0]!.interest).toBe(100_000)
    expect(new Set(s.installments.slice(0, -1).map((i) => i.payment)).size).toBe(1)
  })

  it.each<[RepaymentMethod, number, number, number]>([
    ['annuity', 10_000_000, 12, 12],
    ['annuity', 123_457, 7.35, 36],
    ['linear', 9_999_999, 18, 7],
    ['bullet', 5_000_000, 24, 6],
    ['annuity', 100_000, 0, 3],
  ])('%s schedules repay exactly the principal (%i fen, %f%%, %i months)', (method, principal, rate, months) => {
    const s = buildSchedule(principal, rate, months, method)
    expect(s.installments).toHaveLength(months)
    expect(s.installments.reduce((sum, i) => sum + i.principal, 0)).toBe(principal)
    expect(s.installments.at(-1)!.balance).toBe(0)
    for (const i of s.installments) {
      expect(Number.isInteger(i.interest) && Number.isInteger(i.principal)).toBe(true)
      expect(i.payment).toBe(i.principal + i.interest)
    }
    expect(s.totalPayment).toBe(principal + s.totalInterest)
  })

  it('bullet repays principal only at the end', () => {
    const s = buildSchedule(1_000_000, 12, 3, 'bullet')
    expect(s.installments.map((i) => i.principal)).toEqual([0, 0, 1_000_000])
    expect(s.installments.map((i) => i.interest)).toEqual([10_000, 10_000, 10_000])
  })

  it('formats fen as yuan with grouping', () => {
    expect(formatFen(123_456_789)).toBe('1,234,567.89')
    expect(formatFen(5)).toBe('0.05')
    expect(formatFen(-100)).toBe('-1.00')
  })
})

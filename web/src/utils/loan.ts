/**
 * Client-side loan estimate for the calculator page. Amounts are integer fen; each period's
 * interest is rounded half-up to the fen and the last period takes the remaining balance, so
 * the principal parts always add up exactly to the loan amount.
 */

export type RepaymentMethod = 'annuity' | 'linear' | 'bullet'

export interface Installment {
  period: number
  payment: number
  principal: number
  interest: number
  balance: number
}

export interface ScheduleSummary {
  installments: Installment[]
  totalInterest: number
  totalPayment: number
}

/** "12,345.6" / "12345.67" → 1234567 fen; null if not a positive amount with ≤ 2 decimals. */
export function parseYuanToFen(input: string): number | null {
  const s = input.replace(/[,\s，]/g, '')
  const m = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(s)
  if (!m) return null
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
  return fen > 0 && Number.isSafeInteger(fen) ? fen : null
}

const roundHalfUp = (x: number): number => Math.floor(x + 0.5 + 1e-9)

export function buildSchedule(
  principalFen: number,
  annualRatePercent: number,
  months: number,
  method: RepaymentMethod,
): ScheduleSummary {
  if (!Number.isInteger(principalFen) || principalFen <= 0) throw new RangeError('principal')
  if (!Number.isInteger(months) || months < 1) throw new RangeError('months')
  if (!(annualRatePercent >= 0)) throw new RangeError('rate')

  const r = annualRatePercent / 100 / 12
  const installments: Installment[] = []
  let balance = principalFen

  const annuityPayment =
    r === 0 ? principalFen / months : (principalFen * r * (1 + r) ** months) / ((1 + r) ** months - 1)
  const level = roundHalfUp(annuityPayment)
  const linearPart = Math.floor(principalFen / months)

  for (let period = 1; period <= months; period++) {
    const interest = roundHalfUp(balance * r)
    const last = period === months
    let principal: number
    if (last) principal = balance
    else if (method === 'annuity') principal = Math.min(balance, Math.max(0, level - interest))
    else if (method === 'linear') principal = Math.min(balance, linearPart)
    else principal = 0
    balance -= principal
    installments.push({ period, payment: principal + interest, principal, interest, balance })
  }

  const totalInterest = installments.reduce((s, i) => s + i.interest, 0)
  return { installments, totalInterest, totalPayment: principalFen + totalInterest }
}

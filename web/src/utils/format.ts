import { currentLocale } from '@/i18n'

export const DISPLAY_TIME_ZONE = 'Asia/Shanghai'

const cache = new Map<string, Intl.DateTimeFormat>()
function formatter(locale: string, withSeconds: boolean): Intl.DateTimeFormat {
  const key = `${locale}|${withSeconds}`
  let f = cache.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone: DISPLAY_TIME_ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: withSeconds ? '2-digit' : undefined,
      hourCycle: 'h23',
    })
    cache.set(key, f)
  }
  return f
}

/** ISO timestamp → "2026/11/28 09:05" in Asia/Shanghai; '' for null/invalid. */
export function formatDateTime(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return formatter(currentLocale(), withSeconds).format(d)
}

/** Hour of day (0-23) in Asia/Shanghai, for greetings. */
export function shanghaiHour(now: Date = new Date()): number {
  const h = new Intl.DateTimeFormat('en-US', { timeZone: DISPLAY_TIME_ZONE, hour: 'numeric', hourCycle: 'h23' })
    .formatToParts(now)
    .find((p) => p.type === 'hour')?.value
  return h ? Number(h) % 24 : now.getHours()
}

/** A calendar date (local Date from Vant Calendar) → "YYYY-MM-DD". */
export function toIsoDate(d: Date): string {
  const y = d.getFullYear()
  const m = String(d.getMonth() + 1).padStart(2, '0')
  const day = String(d.getDate()).padStart(2, '0')
  return `${y}-${m}-${day}`
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?$/

/**
 * A decimal string from the server ("1234.5", "-0.05") → "¥1,234.50", by string manipulation
 * only: amounts never pass through a binary float. More than two decimals are rounded half-up
 * (the server sends exactly two). Anything that is not a plain decimal comes back unchanged.
 */
export function formatMoney(value: string | null | undefined, options: { symbol?: boolean } = {}): string {
  if (value === null || value === undefined) return ''
  const m = DECIMAL.exec(value.trim().replace(/,/g, ''))
  if (!m) return value
  const [, sign, int = '0', frac = ''] = m
  let fen = BigInt(int + frac.slice(0, 2).padEnd(2, '0'))
  if ((frac[2] ?? '0') >= '5') fen += 1n
  const digits = fen.toString().padStart(3, '0')
  const yuan = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const negative = sign === '-' && fen !== 0n
  return `${negative ? '-' : ''}${options.symbol === false ? '' : '¥'}${yuan}.${digits.slice(-2)}`
}

/** A percent string from the server ("6.17") → "6.17%"; '' for null. */
export function formatPercent(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  return `${value}%`
}

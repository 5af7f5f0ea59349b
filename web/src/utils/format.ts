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

/** Integer fen → "1,234.56". */
export function formatFen(fen: number): string {
  const negative = fen < 0
  const abs = Math.abs(fen)
  const yuan = Math.floor(abs / 100)
  const cents = String(abs % 100).padStart(2, '0')
  const grouped = String(yuan).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${negative ? '-' : ''}${grouped}.${cents}`
}

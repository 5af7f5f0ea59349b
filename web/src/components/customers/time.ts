import { t } from '@/i18n'
import { formatDateTime } from '@/utils/format'
import { shanghaiLocal } from './followUp'

/** Days between two "YYYY-MM-DD" calendar dates (b - a). */
function dayDiff(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000)
}

/**
 * A timestamp relative to today, in Asia/Shanghai: 今天 14:30 / 昨天 09:05 / 明天 10:00 /
 * 3 天前 / 5 天后, else the date (11-28, or 2025-11-28 in another year).
 */
export function relativeDay(iso: string, now: Date = new Date()): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const local = shanghaiLocal(d)
  const today = shanghaiLocal(now)
  const [date = '', time = ''] = local.split(' ')
  const diff = dayDiff(today.slice(0, 10), date)
  if (diff === 0) return t('customers.time.today', { time })
  if (diff === -1) return t('customers.time.yesterday', { time })
  if (diff === 1) return t('customers.time.tomorrow', { time })
  if (diff < 0 && diff > -7) return t('customers.time.daysAgo', { n: -diff })
  if (diff > 0 && diff < 7) return t('customers.time.inDays', { n: diff })
  return date.slice(0, 4) === today.slice(0, 4) ? date.slice(5) : date
}

export { formatDateTime }

/** Plain helpers of the rule screens (no Vue): one-line summaries of triggers and results. */
import type { RuleBody } from '@/api/rules'

type T = (key: string, params?: Record<string, unknown>) => string

/** "到期日 前 3 天 09:00", "逾期分档 → M2", "0 9 * * 1" … */
export function triggerSummary(
  rule: Pick<RuleBody, 'trigger_type' | 'trigger'> & { labels?: { field?: string; to?: string; topic?: string } },
  t: T,
  fieldLabel?: (key: string) => string,
): string {
  const tr = rule.trigger as Record<string, unknown>
  const labels = rule.labels ?? {}
  const label = (k: unknown): string => labels.field ?? (fieldLabel ? fieldLabel(String(k ?? '')) : String(k ?? ''))
  if (rule.trigger_type === 'date') {
    const days = Number(tr.days ?? 0)
    const when =
      days === 0 ? t('rules.summary.sameDay') : t(days < 0 ? 'rules.summary.before' : 'rules.summary.after', { n: Math.abs(days) })
    return t('rules.summary.date', { field: label(tr.field), when, at: String(tr.at ?? '') })
  }
  if (rule.trigger_type === 'cron') return `${t('rules.trigger.cron')} ${String(tr.cron ?? '')}`
  const kind = String(tr.kind ?? '')
  if (kind === 'field_changed') {
    const to = tr.to === undefined || tr.to === null || tr.to === '' ? '' : ` → ${labels.to ?? String(tr.to)}`
    return `${label(tr.field)}${to}`
  }
  if (kind === 'event') return labels.topic ?? String(tr.topic ?? '')
  return kind ? t(`rules.kinds.${kind}`) : ''
}

/** A compact text of an action's result (or dry run) object. */
export function resultText(result: Record<string, unknown> | undefined): string {
  if (!result) return ''
  return Object.entries(result)
    .filter(([k]) => k !== 'dry_run')
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' · ')
}

/** The date-relative trigger's signed day count from the designer's (days, direction). */
export function signedDays(days: number, direction: 'before' | 'after'): number {
  const n = Math.abs(Math.trunc(days || 0))
  return direction === 'before' ? -n : n
}

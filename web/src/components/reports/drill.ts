/** Drill-down: the query one level below a tapped row, and the record list behind a level. */
import type { ChartQuery, PeriodSpec, RecordsQuery, ResultRow } from '@/api/reports'

export interface Level {
  query: ChartQuery
  label: string
}

function merged(query: ChartQuery, patch: Record<string, unknown>): { filters: ChartQuery['filters']; period: PeriodSpec | null | undefined } {
  const filters = { ...(query.filters ?? {}) } as Record<string, unknown>
  let period = query.period
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'period') period = v as PeriodSpec
    else filters[k] = v
  }
  return { filters: filters as ChartQuery['filters'], period }
}

/** The next level's query for a tapped row, or null when the row only leads to records. */
export function drillDown(query: ChartQuery, row: ResultRow): ChartQuery | null {
  if (!row.drill) return null
  const { filters, period } = merged(query, row.filter)
  return {
    ...query,
    dimension: row.drill.dimension,
    node: row.drill.node ?? null,
    grain: row.drill.grain ?? query.grain ?? null,
    series: null,
    filters,
    period,
    limit: null,
    sort: null,
  }
}

/** The records behind a level (optionally narrowed to one row). */
export function recordsOf(query: ChartQuery, row?: ResultRow | null): RecordsQuery {
  const { filters, period } = merged(query, row?.filter ?? {})
  const f = { ...(filters ?? {}) } as Record<string, unknown>
  // A level of the org tree stands for its subtree.
  if (query.dimension === 'org' && query.node && f.org === undefined) f.org = query.node
  return { metric: query.metrics[0] ?? '', filters: f, period: period ?? null }
}

/** Encodes a records query into the records page's route query, and back. */
export function toRoute(q: RecordsQuery, title = ''): Record<string, string> {
  return { q: JSON.stringify(q), title }
}

export function fromRoute(raw: unknown): RecordsQuery | null {
  if (typeof raw !== 'string') return null
  try {
    const q = JSON.parse(raw) as RecordsQuery
    return typeof q.metric === 'string' ? q : null
  } catch {
    return null
  }
}

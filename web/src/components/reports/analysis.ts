/** ECharts options for the vintage lines and the roll-rate sankey (pure, unit-tested). */
import type { RollRateResult, VintageResult } from '@/api/reports'

const PALETTE = ['#1989fa', '#07c160', '#ff976a', '#ee0a24', '#7232dd', '#00b8d4', '#ffb300', '#8d6e63']

/** One line per cohort observed at least once: x = month on book, y = the M1+ or M3+ share. */
export function vintageLines(result: VintageResult, level: 'm1' | 'm3'): Record<string, unknown> {
  const cohorts = result.cohorts.filter((c) => Object.keys(c[level]).length > 0)
  return {
    animation: false,
    color: PALETTE,
    tooltip: { trigger: 'item', valueFormatter: (v: number | null) => (v === null ? '—' : `${v}%`) },
    legend: { type: 'scroll', bottom: 0, textStyle: { fontSize: 11 } },
    grid: { left: 40, right: 12, top: 12, bottom: 40 },
    xAxis: { type: 'category', data: result.mobs.map((m) => `MOB${m}`), boundaryGap: false },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: cohorts.map((c) => ({
      name: c.label,
      type: 'line',
      symbolSize: 6,
      connectNulls: false,
      data: result.mobs.map((m) => {
        const v = c[level][String(m)]
        return v === undefined || v === null ? null : Number(v)
      }),
    })),
  }
}

/** Buckets at the previous month end (left, "f:") flowing to states at the month end ("t:"). */
export function rollRateSankey(result: RollRateResult): Record<string, unknown> {
  const label = new Map(result.states.map((s) => [s.key, s.label]))
  const used = new Set<string>()
  for (const l of result.links) {
    used.add(`f:${l.from}`)
    used.add(`t:${l.to}`)
  }
  const nodes = result.states.flatMap((s) => [`f:${s.key}`, `t:${s.key}`]).filter((n) => used.has(n))
  return {
    animation: false,
    color: PALETTE,
    tooltip: { trigger: 'item' },
    series: [
      {
        type: 'sankey',
        left: 8,
        right: 48,
        top: 8,
        bottom: 8,
        nodeGap: 6,
        emphasis: { focus: 'adjacency' },
        label: { fontSize: 11, formatter: (p: { name: string }) => label.get(p.name.slice(2)) ?? p.name },
        data: nodes.map((name) => ({ name })),
        links: result.links.map((l) => ({ source: `f:${l.from}`, target: `t:${l.to}`, value: l.count })),
        lineStyle: { color: 'gradient', opacity: 0.35 },
      },
    ],
  }
}

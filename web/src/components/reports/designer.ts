/** Designer helpers (pure): new widgets, placement on the grid, and a widget made consistent. */
import type { Catalog, ChartType, Widget } from '@/api/reports'

export const GRID_COLUMNS = 12

/** The first free row below every widget. */
export function nextRow(widgets: Widget[]): number {
  return widgets.reduce((max, w) => Math.max(max, w.y + w.h), 0)
}

export function newWidget(widgets: Widget[], chart: ChartType = 'bar'): Widget {
  let n = widgets.length + 1
  while (widgets.some((w) => w.id === `w${n}`)) n++
  return {
    id: `w${n}`,
    title: '',
    chart,
    query: { metrics: [], period: { preset: 'last_30_days' } },
    x: 0,
    y: nextRow(widgets),
    w: chart === 'kpi' ? 3 : 6,
    h: chart === 'kpi' ? 2 : 4,
  }
}

/** Keeps the chosen chart unless it was still the default one. */
export function fitChart(current: ChartType, suggested: ChartType): ChartType {
  return current === 'bar' ? suggested : current
}

/** Clamps the grid cell and drops query parts the metrics do not support. */
export function normaliseWidget(w: Widget, catalog: Catalog): Widget {
  const metrics = catalog.metrics.filter((m) => w.query.metrics.includes(m.key))
  const dims = new Set(metrics.length ? metrics.map((m) => m.dimensions).reduce((a, b) => a.filter((d) => b.includes(d))) : [])
  const query = { ...w.query }
  if (query.dimension && !dims.has(query.dimension)) query.dimension = null
  if (query.series && (!dims.has(query.series) || query.metrics.length !== 1 || !query.dimension)) query.series = null
  if (query.dimension !== 'time') delete query.grain
  if (!query.dimension) delete query.node
  for (const key of Object.keys(query) as (keyof typeof query)[]) {
    if (query[key] === null || query[key] === undefined) delete query[key]
  }
  const wCols = Math.min(GRID_COLUMNS, Math.max(1, Math.round(w.w)))
  const x = Math.min(GRID_COLUMNS - wCols, Math.max(0, Math.round(w.x)))
  return { ...w, query, x, w: wCols, y: Math.max(0, Math.round(w.y)), h: Math.min(12, Math.max(1, Math.round(w.h))) }
}

/** Moves a widget one place up or down in reading order (swapping grid rows). */
export function move(widgets: Widget[], id: string, delta: -1 | 1): Widget[] {
  const ordered = [...widgets].sort((a, b) => a.y - b.y || a.x - b.x)
  const i = ordered.findIndex((w) => w.id === id)
  const j = i + delta
  if (i < 0 || j < 0 || j >= ordered.length) return widgets
  const a = ordered[i]!
  const b = ordered[j]!
  const swapped = ordered.map((w) => {
    if (w.id === a.id) return { ...w, x: b.x, y: b.y }
    if (w.id === b.id) return { ...w, x: a.x, y: a.y }
    return w
  })
  return swapped
}

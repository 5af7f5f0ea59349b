/**
 * Chart option builders: a report result (rows × metrics, or rows × series for two dimensions)
 * → an ECharts option, one builder per chart family. Pure functions (no ECharts import), so they
 * are unit-tested without a canvas. Values arrive as integers or decimal strings; they become
 * numbers only here, for drawing (never for money arithmetic elsewhere).
 */
import type { ChartResult, ChartType, ResultRow, Unit, Value } from '@/api/reports'

export type Option = Record<string, unknown>

/** Types drawn as HTML (cards, tables, lists) instead of a canvas. */
export const HTML_CHARTS: readonly ChartType[] = ['kpi', 'table', 'pivot', 'ranking']

export const CHART_FAMILIES: Record<string, ChartType[]> = {
  cartesian: ['line', 'area', 'stacked_line', 'bar', 'hbar', 'stacked_bar', 'percent_bar', 'bar_line', 'waterfall'],
  xy: ['scatter', 'bubble'],
  pie: ['pie', 'donut', 'rose', 'funnel'],
  single: ['gauge'],
  radar: ['radar'],
  calendar: ['calendar'],
  hierarchy: ['treemap', 'sunburst'],
  flow: ['sankey'],
  map: ['map'],
  html: ['kpi', 'table', 'pivot', 'ranking'],
}

const PALETTE = ['#1989fa', '#07c160', '#ff976a', '#ee0a24', '#7232dd', '#00b5b8', '#ffd21e', '#8e9aaf', '#f759ab', '#2f54eb']

export function num(v: Value | undefined): number {
  if (v === null || v === undefined || v === '') return 0
  const n = typeof v === 'number' ? v : Number(v)
  return Number.isFinite(n) ? n : 0
}

export interface FormatOptions {
  locale?: string
  compact?: boolean
}

/** A metric value for people: money in yuan (¥), percent with %, hours with h. */
export function formatValue(unit: Unit, v: Value | undefined, opts: FormatOptions = {}): string {
  if (v === null || v === undefined || v === '') return '—'
  const n = num(v)
  const zh = (opts.locale ?? 'zh-CN').startsWith('zh')
  if (unit === 'percent') return `${n.toFixed(2)}%`
  if (unit === 'hours') return `${n.toFixed(1)} h`
  if (unit === 'days') return `${n.toFixed(1)} ${zh ? '天' : 'd'}`
  const compact = (x: number): string => {
    const abs = Math.abs(x)
    if (zh) {
      if (abs >= 1e8) return `${(x / 1e8).toFixed(2)}亿`
      if (abs >= 1e4) return `${(x / 1e4).toFixed(2)}万`
    } else {
      if (abs >= 1e9) return `${(x / 1e9).toFixed(2)}B`
      if (abs >= 1e6) return `${(x / 1e6).toFixed(2)}M`
      if (abs >= 1e4) return `${(x / 1e3).toFixed(1)}K`
    }
    return x.toLocaleString(zh ? 'zh-CN' : 'en-US', { maximumFractionDigits: 2 })
  }
  if (unit === 'money') {
    const text = opts.compact ? compact(n) : n.toLocaleString(zh ? 'zh-CN' : 'en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    return `¥${text}`
  }
  if (unit === 'count') return opts.compact ? compact(n) : n.toLocaleString(zh ? 'zh-CN' : 'en-US')
  return opts.compact ? compact(n) : n.toLocaleString(zh ? 'zh-CN' : 'en-US', { maximumFractionDigits: 2 })
}

/** Change against the previous period, as a fraction (0.1 = +10 %); null when not comparable. */
export function change(current: Value | undefined, previous: Value | undefined): number | null {
  if (current === null || current === undefined || previous === null || previous === undefined) return null
  const p = num(previous)
  if (p === 0) return null
  return (num(current) - p) / Math.abs(p)
}

interface Series {
  key: string
  name: string
  unit: Unit
  values: number[]
}

/** One drawable series per metric, or per item of the second dimension. */
export function seriesOf(result: ChartResult): Series[] {
  if (result.series) {
    const unit = result.metrics[0]?.unit ?? 'count'
    return result.series.items.map((item) => ({
      key: item.key,
      name: item.label,
      unit,
      values: result.rows.map((r) => num(r.values[item.key])),
    }))
  }
  return result.metrics.map((m) => ({
    key: m.key,
    name: m.label,
    unit: m.unit,
    values: result.rows.map((r) => num(r.values[m.key])),
  }))
}

const AXIS_LABEL = { fontSize: 10, color: '#969799' }
const SPLIT = { lineStyle: { color: '#f2f3f5' } }

function base(result: ChartResult, ctx: BuildContext): Option {
  const fmt = (unit: Unit, v: number): string => formatValue(unit, v, { locale: ctx.locale, compact: true })
  return {
    animation: ctx.animation ?? false,
    color: PALETTE,
    tooltip: {
      confine: true,
      valueFormatter: (v: number) => fmt(result.metrics[0]?.unit ?? 'count', v),
    },
  }
}

export interface BuildContext {
  locale?: string
  /** Province short names by 2-digit code prefix (from the bundled map). */
  provinces?: Record<string, string>
  animation?: boolean
}

function cartesian(type: ChartType, result: ChartResult, ctx: BuildContext): Option {
  const series = seriesOf(result)
  const categories = result.rows.map((r) => r.label)
  const horizontal = type === 'hbar'
  const unit0 = series[0]?.unit ?? 'count'
  const axisFmt = (unit: Unit) => (v: number) => formatValue(unit, v, { locale: ctx.locale, compact: true })
  const catAxis = { type: 'category', data: categories, axisTick: { show: false }, axisLabel: { ...AXIS_LABEL, hideOverlap: true } }
  const valAxis = (unit: Unit, extra: Option = {}) => ({
    type: 'value',
    axisLabel: { ...AXIS_LABEL, hideOverlap: true, formatter: axisFmt(unit) },
    splitLine: SPLIT,
    ...extra,
  })
  const opt: Option = {
    ...base(result, ctx),
    grid: { left: 8, right: 12, top: series.length > 1 ? 30 : 12, bottom: 8, containLabel: true },
    legend: series.length > 1 ? { top: 0, type: 'scroll', itemWidth: 12, itemHeight: 8, textStyle: { fontSize: 11 } } : { show: false },
  }
  ;(opt.tooltip as Option).trigger = 'axis'
  if (type === 'waterfall') {
    const values = series[0]?.values ?? []
    const bases: number[] = []
    let acc = 0
    for (const v of values) {
      bases.push(v >= 0 ? acc : acc + v)
      acc += v
    }
    return {
      ...opt,
      xAxis: catAxis,
      yAxis: valAxis(unit0),
      series: [
        { type: 'bar', stack: 'w', itemStyle: { color: 'transparent' }, emphasis: { disabled: true }, data: bases, tooltip: { show: false } },
        {
          type: 'bar',
          stack: 'w',
          name: series[0]?.name,
          barMaxWidth: 28,
          data: values.map((v) => ({ value: Math.abs(v), itemStyle: { color: v >= 0 ? PALETTE[1] : PALETTE[3] } })),
        },
      ],
    }
  }
  if (type === 'bar_line') {
    const [bar, line] = series
    return {
      ...opt,
      xAxis: catAxis,
      yAxis: [valAxis(bar?.unit ?? 'count'), valAxis(line?.unit ?? bar?.unit ?? 'count', { splitLine: { show: false } })],
      series: [
        { type: 'bar', name: bar?.name, data: bar?.values ?? [], barMaxWidth: 24 },
        ...(line ? [{ type: 'line', name: line.name, yAxisIndex: 1, smooth: true, data: line.values }] : []),
        ...series.slice(2).map((s) => ({ type: 'line', name: s.name, yAxisIndex: 1, data: s.values })),
      ],
    }
  }
  const percent = type === 'percent_bar'
  const totals = result.rows.map((_, i) => series.reduce((sum, s) => sum + Math.abs(s.values[i] ?? 0), 0))
  const stacked = ['stacked_line', 'stacked_bar', 'percent_bar'].includes(type)
  const isLine = ['line', 'area', 'stacked_line'].includes(type)
  const out = series.map((s) => ({
    type: isLine ? 'line' : 'bar',
    name: s.name,
    stack: stacked ? 'total' : undefined,
    smooth: isLine,
    symbolSize: 4,
    areaStyle: type === 'area' || type === 'stacked_line' ? { opacity: 0.25 } : undefined,
    barMaxWidth: 28,
    data: percent ? s.values.map((v, i) => (totals[i] ? Math.round((Math.abs(v) / totals[i]!) * 10000) / 100 : 0)) : s.values,
  }))
  const valueAxis = percent ? valAxis('percent', { max: 100 }) : valAxis(unit0)
  if (percent) (opt.tooltip as Option).valueFormatter = (v: number) => `${v}%`
  return {
    ...opt,
    xAxis: horizontal ? valueAxis : catAxis,
    yAxis: horizontal ? { ...catAxis, inverse: true } : valueAxis,
    series: out,
  }
}

function xy(type: ChartType, result: ChartResult, ctx: BuildContext): Option {
  const [mx, my, ms] = result.metrics
  const xs = result.rows.map((r) => num(r.values[mx?.key ?? '']))
  const ys = my ? result.rows.map((r) => num(r.values[my.key])) : result.rows.map((_, i) => i + 1)
  const sizes = ms ? result.rows.map((r) => num(r.values[ms.key])) : ys
  const maxSize = Math.max(1, ...sizes.map(Math.abs))
  return {
    ...base(result, ctx),
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: {
      confine: true,
      formatter: (p: { dataIndex: number }) => {
        const r = result.rows[p.dataIndex]
        if (!r) return ''
        return [r.label, ...result.metrics.map((m) => `${m.label}: ${formatValue(m.unit, r.values[m.key], { locale: ctx.locale })}`)].join('<br/>')
      },
    },
    xAxis: { type: 'value', name: mx?.label, nameTextStyle: { fontSize: 10 }, axisLabel: AXIS_LABEL, splitLine: SPLIT },
    yAxis: { type: 'value', name: my?.label, nameTextStyle: { fontSize: 10 }, axisLabel: AXIS_LABEL, splitLine: SPLIT },
    series: [
      {
        type: 'scatter',
        data: result.rows.map((r, i) => ({ value: [xs[i], ys[i]], name: r.label, key: r.key })),
        symbolSize:
          type === 'bubble'
            ? (_: unknown, p: { dataIndex: number }) => 8 + (Math.abs(sizes[p.dataIndex] ?? 0) / maxSize) * 32
            : 10,
        itemStyle: { opacity: 0.8 },
      },
    ],
  }
}

function pieLike(type: ChartType, result: ChartResult, ctx: BuildContext): Option {
  const metric = result.metrics[0]
  const noDim = !result.dimension
  const data = noDim
    ? result.metrics.map((m) => ({ name: m.label, value: num(result.totals[m.key]), key: m.key }))
    : result.rows.map((r) => ({ name: r.label, value: num(r.values[metric?.key ?? '']), key: r.key }))
  const fmt = (v: number): string =>
    formatValue(noDim ? 'count' : (metric?.unit ?? 'count'), v, { locale: ctx.locale, compact: true })
  const opt: Option = {
    ...base(result, ctx),
    tooltip: { trigger: 'item', confine: true, valueFormatter: fmt },
    legend: { type: 'scroll', bottom: 0, itemWidth: 10, itemHeight: 8, textStyle: { fontSize: 11 } },
  }
  if (type === 'funnel') {
    return {
      ...opt,
      series: [
        {
          type: 'funnel',
          top: 8,
          bottom: 28,
          left: '8%',
          width: '84%',
          sort: noDim ? 'none' : 'descending',
          minSize: '8%',
          // Dark text with a white halo: readable on every stage's colour, and where a narrow
          // stage's label runs past its edge onto the card.
          label: {
            show: true,
            position: 'inside',
            formatter: (p: { name: string; value: number }) => `${p.name} ${fmt(p.value)}`,
            fontSize: 11,
            color: '#323233',
            textBorderColor: '#fff',
            textBorderWidth: 2,
          },
          data,
        },
      ],
    }
  }
  return {
    ...opt,
    series: [
      {
        type: 'pie',
        radius: type === 'donut' ? ['42%', '68%'] : type === 'rose' ? ['12%', '70%'] : '68%',
        center: ['50%', '45%'],
        roseType: type === 'rose' ? 'area' : undefined,
        label: { fontSize: 10, formatter: '{b}\n{d}%' },
        data,
      },
    ],
  }
}

function gauge(result: ChartResult, ctx: BuildContext): Option {
  const m = result.metrics[0]
  const value = num(result.totals[m?.key ?? ''])
  const percent = m?.unit === 'percent'
  const max = percent ? 100 : Math.max(1, Math.ceil((Math.max(value, num(result.previous_totals?.[m?.key ?? ''])) * 1.25) || 1))
  return {
    ...base(result, ctx),
    series: [
      {
        type: 'gauge',
        min: 0,
        max,
        progress: { show: true, width: 12 },
        axisLine: { lineStyle: { width: 12 } },
        axisLabel: { fontSize: 9, distance: 16 },
        splitLine: { length: 8 },
        pointer: { width: 4 },
        detail: {
          valueAnimation: false,
          fontSize: 18,
          offsetCenter: [0, '60%'],
          formatter: (v: number) => formatValue(m?.unit ?? 'count', v, { locale: ctx.locale, compact: true }),
        },
        title: { show: true, offsetCenter: [0, '88%'], fontSize: 11 },
        data: [{ value, name: m?.label ?? '' }],
      },
    ],
  }
}

function radar(result: ChartResult, ctx: BuildContext): Option {
  const series = seriesOf(result)
  const indicator = result.rows.map((r, i) => ({
    name: r.label,
    max: Math.max(1, ...series.map((s) => s.values[i] ?? 0)) * 1.15,
  }))
  return {
    ...base(result, ctx),
    tooltip: { confine: true },
    legend: { bottom: 0, itemWidth: 10, itemHeight: 8, textStyle: { fontSize: 11 } },
    radar: { indicator, radius: '62%', center: ['50%', '48%'], axisName: { fontSize: 10, color: '#646566' } },
    series: [{ type: 'radar', areaStyle: { opacity: 0.15 }, data: series.map((s) => ({ name: s.name, value: s.values })) }],
  }
}

function calendar(result: ChartResult, ctx: BuildContext): Option {
  const m = result.metrics[0]
  const data = result.rows.map((r) => [r.key, num(r.values[m?.key ?? ''])])
  const max = Math.max(1, ...data.map((d) => Number(d[1])))
  return {
    ...base(result, ctx),
    tooltip: { confine: true, formatter: (p: { value: [string, number] }) => `${p.value[0]}: ${formatValue(m?.unit ?? 'count', p.value[1], { locale: ctx.locale })}` },
    visualMap: { min: 0, max, show: false, inRange: { color: ['#ebf5ff', '#1989fa'] } },
    calendar: {
      range: [result.period.start, result.period.end],
      top: 24,
      left: 24,
      right: 8,
      cellSize: ['auto', 12],
      dayLabel: { fontSize: 9, nameMap: (ctx.locale ?? 'zh-CN').startsWith('zh') ? 'ZH' : 'EN' },
      monthLabel: { fontSize: 9, nameMap: (ctx.locale ?? 'zh-CN').startsWith('zh') ? 'ZH' : 'EN' },
      yearLabel: { show: false },
      itemStyle: { borderColor: '#fff', borderWidth: 1 },
      splitLine: { show: false },
    },
    series: [{ type: 'heatmap', coordinateSystem: 'calendar', data }],
  }
}

function hierarchy(type: ChartType, result: ChartResult, ctx: BuildContext): Option {
  const m = result.metrics[0]
  const data = result.rows.map((r: ResultRow) => {
    if (result.series) {
      const children = result.series.items
        .map((s) => ({ name: s.label, value: num(r.values[s.key]) }))
        .filter((c) => c.value > 0)
      return { name: r.label, key: r.key, value: children.reduce((a, c) => a + c.value, 0), children }
    }
    return { name: r.label, key: r.key, value: num(r.values[m?.key ?? '']) }
  })
  const fmt = (v: number): string => formatValue(m?.unit ?? 'count', v, { locale: ctx.locale, compact: true })
  if (type === 'sunburst') {
    return {
      ...base(result, ctx),
      tooltip: { confine: true, valueFormatter: fmt },
      series: [{ type: 'sunburst', radius: ['12%', '88%'], data, label: { fontSize: 10, minAngle: 8 }, nodeClick: false }],
    }
  }
  return {
    ...base(result, ctx),
    tooltip: { confine: true, valueFormatter: fmt },
    series: [
      {
        type: 'treemap',
        roam: false,
        nodeClick: false,
        breadcrumb: { show: false },
        top: 4,
        left: 4,
        right: 4,
        bottom: 4,
        label: { fontSize: 11, formatter: (p: { name: string; value: number }) => `${p.name}\n${fmt(p.value)}` },
        data,
      },
    ],
  }
}

function sankey(result: ChartResult, ctx: BuildContext): Option {
  const links: { source: string; target: string; value: number }[] = []
  const names = new Set<string>()
  if (result.series && result.dimension) {
    // rows → series items (e.g. product → bucket, or bucket → next bucket for roll rates)
    for (const r of result.rows) {
      for (const s of result.series.items) {
        const v = num(r.values[s.key])
        if (v <= 0) continue
        const source = r.label
        const target = `${s.label} `
        names.add(source)
        names.add(target)
        links.push({ source, target, value: v })
      }
    }
  } else {
    // metrics as stages (lead → application → approved → disbursed): what goes on and what drops
    const ms = result.metrics
    const drop = (ctx.locale ?? 'zh-CN').startsWith('zh') ? '流失' : 'lost'
    for (let i = 0; i < ms.length - 1; i++) {
      const a = ms[i]!
      const b = ms[i + 1]!
      const va = num(result.totals[a.key])
      const vb = Math.min(va, num(result.totals[b.key]))
      names.add(a.label)
      names.add(b.label)
      if (vb > 0) links.push({ source: a.label, target: b.label, value: vb })
      if (va - vb > 0) {
        const lost = `${a.label} ${drop}`
        names.add(lost)
        links.push({ source: a.label, target: lost, value: va - vb })
      }
    }
  }
  return {
    ...base(result, ctx),
    tooltip: { trigger: 'item', confine: true },
    series: [
      {
        type: 'sankey',
        left: 8,
        right: 64,
        top: 8,
        bottom: 8,
        nodeWidth: 10,
        nodeGap: 8,
        emphasis: { focus: 'adjacency' },
        label: { fontSize: 10 },
        data: [...names].map((name) => ({ name })),
        links,
      },
    ],
  }
}

/** Region rows keyed by 6-digit province code → the bundled map's province names. */
function mapChart(result: ChartResult, ctx: BuildContext): Option {
  const m = result.metrics[0]
  const provinces = ctx.provinces ?? {}
  const data = result.rows
    .filter((r) => r.key)
    .map((r) => ({ name: provinces[r.key.slice(0, 2)] ?? r.label, value: num(r.values[m?.key ?? '']), key: r.key }))
  const max = Math.max(1, ...data.map((d) => d.value))
  return {
    ...base(result, ctx),
    tooltip: { trigger: 'item', confine: true, valueFormatter: (v: number) => formatValue(m?.unit ?? 'count', v || 0, { locale: ctx.locale }) },
    visualMap: {
      min: 0,
      max,
      left: 4,
      bottom: 4,
      itemWidth: 10,
      itemHeight: 60,
      calculable: false,
      text: [formatValue(m?.unit ?? 'count', max, { locale: ctx.locale, compact: true }), '0'],
      textStyle: { fontSize: 9 },
      inRange: { color: ['#e8f3ff', '#1989fa', '#0a4fa8'] },
    },
    series: [
      {
        type: 'map',
        map: 'china',
        roam: false,
        zoom: 1.15,
        top: 8,
        bottom: 8,
        label: { show: false },
        itemStyle: { areaColor: '#f7f8fa', borderColor: '#c8c9cc', borderWidth: 0.5 },
        emphasis: { label: { show: true, fontSize: 10 } },
        data,
      },
    ],
  }
}

export function buildOption(type: ChartType, result: ChartResult, ctx: BuildContext = {}): Option {
  if (CHART_FAMILIES.cartesian!.includes(type)) return cartesian(type, result, ctx)
  if (CHART_FAMILIES.xy!.includes(type)) return xy(type, result, ctx)
  if (CHART_FAMILIES.pie!.includes(type)) return pieLike(type, result, ctx)
  if (type === 'gauge') return gauge(result, ctx)
  if (type === 'radar') return radar(result, ctx)
  if (type === 'calendar') return calendar(result, ctx)
  if (type === 'treemap' || type === 'sunburst') return hierarchy(type, result, ctx)
  if (type === 'sankey') return sankey(result, ctx)
  if (type === 'map') return mapChart(result, ctx)
  throw new Error(`not a canvas chart: ${type}`)
}

/** Which row a click on the canvas means (data items carry the row key; axes use the index). */
export function rowForClick(
  result: ChartResult,
  params: { dataIndex?: number; data?: unknown; name?: string; componentSubType?: string },
): ResultRow | null {
  const data = params.data as { key?: string } | undefined
  if (data && typeof data === 'object' && typeof data.key === 'string') {
    return result.rows.find((r) => r.key === data.key) ?? null
  }
  if (params.name) {
    const byName = result.rows.find((r) => r.label === params.name)
    if (byName) return byName
  }
  if (typeof params.dataIndex === 'number' && result.dimension) return result.rows[params.dataIndex] ?? null
  return null
}

/** Rows of a pivot table: dimension rows × series columns (or metrics), with totals. */
export function pivot(result: ChartResult): { columns: { key: string; label: string }[]; rows: { label: string; cells: Value[]; total: number }[] } {
  const columns = result.series ? result.series.items : result.metrics.map((m) => ({ key: m.key, label: m.label }))
  return {
    columns,
    rows: result.rows.map((r) => {
      const cells = columns.map((c) => r.values[c.key] ?? null)
      return { label: r.label, cells, total: cells.reduce<number>((a, c) => a + num(c), 0) }
    }),
  }
}

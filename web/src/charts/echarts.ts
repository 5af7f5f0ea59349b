/**
 * ECharts, loaded on demand: only pages with charts call loadEcharts(), and the dynamic imports
 * below land in their own chunk (see manualChunks in vite.config.ts), so the main bundle does not
 * carry the chart library. Only the pieces LoanDesk draws are registered (tree-shaken build).
 */
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts'
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components'
import type { ComposeOption, EChartsType } from 'echarts/core'

export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>
export type Chart = EChartsType

export interface EchartsModule {
  init: (el: HTMLElement) => Chart
}

let loading: Promise<EchartsModule> | null = null

// Destructured dynamic imports let Rollup tree-shake echarts/charts and echarts/components down
// to the named parts; they all resolve from the one `echarts` chunk.
async function load(): Promise<EchartsModule> {
  const { use, init } = await import('echarts/core')
  const { BarChart, LineChart } = await import('echarts/charts')
  const { GridComponent, TooltipComponent, LegendComponent } = await import('echarts/components')
  const { CanvasRenderer } = await import('echarts/renderers')
  use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer])
  return { init: (el: HTMLElement) => init(el, undefined, { renderer: 'canvas' }) }
}

export function loadEcharts(): Promise<EchartsModule> {
  loading ??= load().catch((e: unknown) => {
    loading = null // a failed chunk download can be retried on the next visit
    throw e
  })
  return loading
}

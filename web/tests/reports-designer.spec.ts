import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Catalog, ChartResult, Dashboard, Widget } from '@/api/reports'
import { move, newWidget, nextRow, normaliseWidget } from '@/components/reports/designer'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const admin = makeMe({ username: 'admin', permissions: ['reports.view', 'reports.design'] })
const catalog: Catalog = {
  metrics: [
    { key: 'disbursement_amount', label: '放款金额', unit: 'money', group: 'business', dimensions: ['time', 'org', 'officer', 'product'], default_dimension: 'time', default_chart: 'bar', time: true, higher_is_better: true, description: '' },
    { key: 'par30', label: 'PAR30', unit: 'percent', group: 'risk', dimensions: ['org', 'officer', 'product', 'bucket'], default_dimension: 'product', default_chart: 'bar', time: false, higher_is_better: false, description: '' },
  ],
  dimensions: [
    { key: 'time', label: '时间' },
    { key: 'org', label: '组织' },
    { key: 'officer', label: '客户经理' },
    { key: 'product', label: '产品' },
    { key: 'bucket', label: '逾期分档' },
  ],
  grains: ['day', 'week', 'month', 'quarter', 'year'],
  presets: ['last_30_days', 'last_12_months'],
  charts: ['kpi', 'bar', 'hbar', 'pie', 'ranking', 'table'],
  roles: [
    { code: 'gm', name: '总经理' },
    { code: 'officer', name: '客户经理' },
  ],
  can_design: true,
}
const kpi: Widget = { id: 'k1', title: '', chart: 'kpi', query: { metrics: ['par30'] }, x: 0, y: 0, w: 3, h: 2 }
const dashboard: Dashboard = {
  id: 5,
  code: 'mine',
  name: '我的业绩',
  name_zh: '我的业绩',
  name_en: 'Mine',
  description: '',
  refresh_seconds: 0,
  shared_with: ['officer'],
  is_system: true,
  sort: 40,
  can_edit: true,
  widget_count: 1,
  updated_at: '2026-11-20T00:00:00Z',
  widgets: [kpi],
}
const result: ChartResult = {
  metrics: [{ key: 'par30', label: 'PAR30', unit: 'percent', higher_is_better: false }],
  dimension: null,
  series: null,
  rows: [],
  totals: { par30: '3.50', disbursement_amount: '100.00' },
  previous_totals: null,
  period: { start: '2026-10-22', end: '2026-11-20' },
  previous_period: null,
  ignored_filters: [],
}

beforeEach(() => {
  clearCookies()
  resetCsrfState()
  setCookie('csrftoken', 'tok')
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
})

describe('designer helpers', () => {
  it('places a new widget below the others with a fresh id', () => {
    const widgets = [kpi, { ...kpi, id: 'w2', y: 2, h: 4 }]
    expect(nextRow(widgets)).toBe(6)
    const w = newWidget(widgets)
    expect(w).toMatchObject({ id: 'w3', x: 0, y: 6, w: 6, h: 4 })
    expect(newWidget([], 'kpi')).toMatchObject({ w: 3, h: 2 })
  })

  it('clamps the grid cell and drops dimensions the metrics do not support', () => {
    const w = normaliseWidget(
      { ...kpi, chart: 'bar', x: 10, w: 6, h: 40, query: { metrics: ['disbursement_amount', 'par30'], dimension: 'time', grain: 'month', series: 'product' } },
      catalog,
    )
    expect(w).toMatchObject({ x: 6, w: 6, h: 12 })
    expect(w.query).toEqual({ metrics: ['disbursement_amount', 'par30'] })
    const ok = normaliseWidget({ ...kpi, query: { metrics: ['par30'], dimension: 'product', series: 'bucket', node: null } }, catalog)
    expect(ok.query).toEqual({ metrics: ['par30'], dimension: 'product', series: 'bucket' })
  })

  it('moves widgets in reading order by swapping cells', () => {
    const a = { ...kpi, id: 'a', x: 0, y: 0 }
    const b = { ...kpi, id: 'b', x: 3, y: 0 }
    const moved = move([a, b], 'b', -1)
    expect(moved.find((w) => w.id === 'b')).toMatchObject({ x: 0, y: 0 })
    expect(moved.find((w) => w.id === 'a')).toMatchObject({ x: 3, y: 0 })
    expect(move([a, b], 'a', -1)).toEqual([a, b])
  })
})

describe('dashboard designer page', () => {
  it('adds a chart (metric, type, dimension) and saves the dashboard', async () => {
    let saved: Record<string, unknown> | undefined
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /reports/catalog': { body: catalog },
      'GET /reports/dashboards/5': { body: dashboard },
      'POST /reports/query': { body: result },
      'PUT /reports/dashboards/5': (req) => {
        saved = req.body as Record<string, unknown>
        return { body: { ...dashboard, widgets: saved.widgets } }
      },
    })
    ;({ wrapper } = await mountApp('/manage/dashboards/5'))
    await waitFor(() => document.querySelectorAll('[data-testid="designer-widget"]').length === 1)
    const name = document.querySelector<HTMLInputElement>('[data-testid="dashboard-name"] input')!
    expect(name.value).toBe('我的业绩')

    document.querySelector<HTMLElement>('[data-testid="widget-add"]')!.click()
    await waitFor(() => !!document.querySelector('[data-testid="widget-editor"]'))
    document.querySelector<HTMLElement>('[data-testid="metric-disbursement_amount"]')!.click()
    await settle()
    document.querySelector<HTMLElement>('[data-testid="chart-hbar"]')!.click()
    await settle()
    document.querySelector<HTMLElement>('[data-testid="dim-product"]')!.click()
    await settle()
    // the time-only grain and PAR30's unsupported time dimension are not offered together
    expect(document.querySelector('[data-testid="dim-time"]')).not.toBeNull()
    document.querySelector<HTMLElement>('[data-testid="widget-apply"]')!.click()
    await waitFor(() => document.querySelectorAll('[data-testid="designer-widget"]').length === 2)

    document.querySelector<HTMLElement>('[data-testid="dashboard-save"]')!.click()
    await waitFor(() => saved !== undefined)
    const widgets = saved!.widgets as Widget[]
    expect(widgets).toHaveLength(2)
    expect(widgets[1]).toMatchObject({
      id: 'w2',
      chart: 'hbar',
      x: 0,
      y: 2,
      w: 6,
      h: 4,
      query: { metrics: ['disbursement_amount'], dimension: 'product', period: { preset: 'last_30_days' } },
    })
    expect(saved!.shared_with).toEqual(['officer'])
    expect(calls.some((c) => c.method === 'POST' && c.path === '/reports/query')).toBe(true)
  })
})

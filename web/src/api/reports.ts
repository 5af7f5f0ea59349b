import { ApiError, ensureCsrfToken, http, buildUrl } from './client'
import { filenameFrom, saveBlob } from './customers'
import { currentLocale } from '@/i18n'
import type { Aggregation, ApiFilter, KeyField, MetricUnit } from '@/components/reports/customMetric'

/** Open dashboards (and query their charts). */
export const REPORTS_VIEW_PERM = 'reports.view'
/** Design dashboards, custom metrics and channel costs. */
export const REPORTS_DESIGN_PERM = 'reports.design'

export type Unit = 'count' | 'money' | 'percent' | 'hours' | 'days' | 'number'
export type Grain = 'day' | 'week' | 'month' | 'quarter' | 'year'
export type ChartType =
  | 'kpi'
  | 'line'
  | 'area'
  | 'stacked_line'
  | 'bar'
  | 'hbar'
  | 'stacked_bar'
  | 'percent_bar'
  | 'bar_line'
  | 'pie'
  | 'donut'
  | 'rose'
  | 'funnel'
  | 'gauge'
  | 'radar'
  | 'scatter'
  | 'bubble'
  | 'calendar'
  | 'treemap'
  | 'sunburst'
  | 'sankey'
  | 'waterfall'
  | 'map'
  | 'table'
  | 'pivot'
  | 'ranking'
  | 'vintage'
  | 'roll_rate'

/** Charts drawn from the loan-level month-end analyses (their query is period + filters). */
export const ANALYSIS_CHARTS: ChartType[] = ['vintage', 'roll_rate']

export type Filters = Record<string, number | number[] | string[] | undefined>
export type PeriodSpec = { preset: string } | { start: string; end: string }

export interface ChartQuery {
  metrics: string[]
  dimension?: string | null
  grain?: Grain | null
  node?: number | null
  series?: string | null
  series_grain?: Grain | null
  filters?: Filters
  period?: PeriodSpec | null
  compare?: boolean
  sort?: string | null
  limit?: number | null
}

export interface MetricRef {
  key: string
  label: string
  unit: Unit
  higher_is_better: boolean
}

export type Value = number | string | null

export interface DrillNext {
  dimension: string
  node?: number
  grain?: Grain | null
}

export interface ResultRow {
  key: string
  label: string
  values: Record<string, Value>
  previous?: Record<string, Value>
  drill: DrillNext | null
  filter: Record<string, unknown>
}

export interface ChartResult {
  metrics: MetricRef[]
  dimension: {
    key: string
    requested: string
    label: string
    grain: Grain | null
    node: number | null
    path: { node: number; label: string }[]
  } | null
  series: { key: string; label: string; items: { key: string; label: string }[] } | null
  rows: ResultRow[]
  totals: Record<string, Value>
  previous_totals: Record<string, Value> | null
  period: { start: string; end: string }
  previous_period: { start: string; end: string } | null
  ignored_filters: string[]
}

export interface CatalogMetric {
  key: string
  label: string
  unit: Unit
  group: string
  dimensions: string[]
  default_dimension: string | null
  default_chart: ChartType
  time: boolean
  higher_is_better: boolean
  description: string
}

export interface Catalog {
  metrics: CatalogMetric[]
  dimensions: { key: string; label: string }[]
  grains: Grain[]
  presets: string[]
  charts: ChartType[]
  roles: { code: string; name: string }[]
  can_design: boolean
}

export interface Widget {
  id: string
  title: string
  chart: ChartType
  query: ChartQuery
  x: number
  y: number
  w: number
  h: number
  options?: Record<string, unknown>
}

export interface DashboardSummary {
  id: number
  code: string
  name: string
  name_zh: string
  name_en: string
  description: string
  refresh_seconds: number
  shared_with: string[]
  is_system: boolean
  sort: number
  can_edit: boolean
  can_subscribe?: boolean
  widget_count: number
  updated_at: string
}

export interface Dashboard extends DashboardSummary {
  widgets: Widget[]
}

export interface DashboardBody {
  name: string
  name_en?: string
  description?: string
  refresh_seconds: number
  sort?: number
  shared_with: string[]
  widgets: Widget[]
}

export interface RecordsPage {
  kind: string
  columns: { key: string; label: string }[]
  items: Record<string, unknown>[]
  total: number
  page: number
  page_size: number
}

export interface RecordsQuery {
  metric: string
  filters?: Record<string, unknown>
  period?: PeriodSpec | null
  page?: number
  page_size?: number
}

export interface CustomMetric {
  id: number
  key: string
  metric: string
  label: string
  label_en: string
  form: string
  form_name: string
  aggregation: 'count' | 'sum' | 'avg' | 'distinct'
  field: string
  filters: { field: string; op: string; value: unknown }[]
  unit: Unit
  /** Names of the dashboards whose charts query it (it cannot be deleted while used). */
  used_by?: string[]
}

export interface MetricForm {
  code: string
  name: string
  fields: KeyField[]
}

/** What the custom-metric editor sends (the key only when creating). */
export interface CustomMetricBody {
  key?: string
  label: string
  label_en: string
  form: string
  aggregation: Aggregation
  field: string
  filters: ApiFilter[]
  unit?: MetricUnit | ''
}

export interface MetricPreview {
  value: Value
  previous: Value
  unit: Unit
  period: { start: string; end: string }
  previous_period: { start: string; end: string } | null
}

export interface ChannelCost {
  channel: string
  channel_label: string
  month: string
  /** Yuan, a decimal string with 2 places. */
  cost: string
}

async function download(path: string, body: unknown, fallback: string): Promise<void> {
  const send = async (retry: boolean): Promise<Response> =>
    fetch(buildUrl(path), {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'Accept-Language': currentLocale(),
        'X-CSRFToken': await ensureCsrfToken(retry),
      },
      body: JSON.stringify(body),
    })
  let res = await send(false)
  if (res.status === 403) res = await send(true)
  if (!res.ok) {
    let data: { code?: string; message?: string; details?: Record<string, unknown> } = {}
    try {
      data = (await res.json()) as typeof data
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, data.code ?? `http_${res.status}`, data.message ?? `HTTP ${res.status}`, data.details)
  }
  saveBlob({ blob: await res.blob(), filename: filenameFrom(res, fallback) })
}

export interface AnalysisQuery {
  period?: PeriodSpec | null
  filters?: Filters
}

export interface VintageCohort {
  key: string
  label: string
  loans: number
  /** Month on book → share in percent (decimal string), null when the cohort is empty. */
  m1: Record<string, Value>
  m3: Record<string, Value>
}

export interface VintageResult {
  period: { start: string; end: string }
  as_of: string
  mobs: number[]
  cohorts: VintageCohort[]
}

export interface RollRateRow {
  from: string
  label: string
  total: number
  cells: Record<string, { count: number; percent: Value }>
}

export interface RollRateResult {
  period: { start: string; end: string }
  months: string[]
  states: { key: string; label: string }[]
  rows: RollRateRow[]
  links: { from: string; to: string; count: number }[]
}

/** The loans behind one vintage cell (cohort, mob, level) or roll-rate cell (from → to). */
export interface AnalysisLoansQuery {
  kind: 'vintage' | 'roll_rate'
  filters?: Filters
  period?: PeriodSpec | null
  cohort?: string
  mob?: number
  level?: 'm1' | 'm3'
  month?: string
  from_state?: string
  to_state?: string
  page?: number
  page_size?: number
}

export interface SubscriptionBody {
  users: number[]
  roles: string[]
  /** Local time of day, HH:MM. */
  send_at: string
  /** 0 = Monday … 6 = Sunday; null = every day. */
  weekday: number | null
}

export interface Subscription extends Omit<SubscriptionBody, 'users'> {
  id: number
  dashboard: number
  users: { id: number; name: string }[]
  enabled: boolean
  last_sent_on: string | null
}

export const reportsApi = {
  subscriptions: (dashboardId: number) => http.get<Subscription[]>(`/reports/dashboards/${dashboardId}/subscriptions`),
  subscribe: (dashboardId: number, body: SubscriptionBody) =>
    http.post<Subscription>(`/reports/dashboards/${dashboardId}/subscriptions`, body),
  unsubscribe: (id: number) => http.delete(`/reports/subscriptions/${id}`),
  vintage: (q: AnalysisQuery) => http.post<VintageResult>('/reports/vintage', q, { quiet: true }),
  rollRate: (q: AnalysisQuery) => http.post<RollRateResult>('/reports/roll-rate', q, { quiet: true }),
  analysisLoans: (q: AnalysisLoansQuery) => http.post<RecordsPage>('/reports/analysis/loans', q),
  catalog: () => http.get<Catalog>('/reports/catalog'),
  query: (q: ChartQuery, quiet = true) => http.post<ChartResult>('/reports/query', q, { quiet }),
  records: (q: RecordsQuery) => http.post<RecordsPage>('/reports/records', q),
  dashboards: () => http.get<DashboardSummary[]>('/reports/dashboards'),
  dashboard: (id: number) => http.get<Dashboard>(`/reports/dashboards/${id}`),
  createDashboard: (body: DashboardBody) => http.post<Dashboard>('/reports/dashboards', body),
  updateDashboard: (id: number, body: DashboardBody) => http.put<Dashboard>(`/reports/dashboards/${id}`, body),
  deleteDashboard: (id: number) => http.delete(`/reports/dashboards/${id}`),
  customMetrics: () => http.get<CustomMetric[]>('/reports/custom-metrics'),
  metricForms: () => http.get<MetricForm[]>('/reports/metric-forms'),
  createCustomMetric: (body: CustomMetricBody) => http.post<CustomMetric>('/reports/custom-metrics', body, { quiet: [422] }),
  updateCustomMetric: (id: number, body: CustomMetricBody) => http.put<CustomMetric>(`/reports/custom-metrics/${id}`, body, { quiet: [422] }),
  previewCustomMetric: (body: CustomMetricBody & { period?: PeriodSpec }) =>
    http.post<MetricPreview>('/reports/custom-metrics/preview', body, { quiet: [422] }),
  deleteCustomMetric: (id: number) => http.delete(`/reports/custom-metrics/${id}`),
  channelCosts: () => http.get<ChannelCost[]>('/reports/channel-costs'),
  channelOptions: () => http.get<{ value: string; label: string }[]>('/reports/channel-options'),
  setChannelCosts: (costs: { channel: string; month: string; cost: string }[]) =>
    http.put<ChannelCost[]>('/reports/channel-costs', { costs }, { quiet: [422] }),
  deleteChannelCost: (channel: string, month: string) =>
    http.delete(`/reports/channel-costs/${encodeURIComponent(channel)}/${encodeURIComponent(month)}`),
  exportChart: (q: ChartQuery & { title?: string }) => download('/reports/export', q, 'chart.xlsx'),
  exportRecords: (q: RecordsQuery) => download('/reports/records/export', q, 'records.xlsx'),
  /** The dashboard as an A4 PDF drawn by the server; `images` are the charts (data URLs by widget id). */
  exportPdf: (id: number, images: Record<string, string>) =>
    download(`/reports/dashboards/${id}/pdf`, { images }, 'dashboard.pdf'),
}

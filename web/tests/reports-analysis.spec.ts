import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Dashboard, RecordsPage, RollRateResult, VintageResult, Widget } from '@/api/reports'
import { rollRateSankey, vintageLines } from '@/components/reports/analysis'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const risk = makeMe({ username: 'risk', permissions: ['reports.view'] })
const vintage: VintageResult = {
  period: { start: '2026-08-01', end: '2026-11-20' },
  as_of: '2026-10-31',
  mobs: [1, 2],
  cohorts: [
    { key: '2026-08', label: '2026-08', loans: 4, m1: { '1': '25.00', '2': '50.00' }, m3: { '1': '0.00', '2': null } },
    { key: '2026-09', label: '2026-09', loans: 2, m1: { '1': '0.00' }, m3: { '1': '0.00' } },
    { key: '2026-10', label: '2026-10', loans: 3, m1: {}, m3: {} },
  ],
}
const states = ['M0', 'M1', 'closed', 'written_off'].map((key) => ({ key, label: key === 'closed' ? '已结清' : key }))
const cell = (count: number, percent: string | null) => ({ count, percent })
const rollRate: RollRateResult = {
  period: { start: '2026-08-01', end: '2026-11-20' },
  months: ['2026-08', '2026-09', '2026-10'],
  states,
  rows: [
    { from: 'M0', label: 'M0', total: 10, cells: { M0: cell(7, '70.00'), M1: cell(2, '20.00'), closed: cell(1, '10.00'), written_off: cell(0, '0.00') } },
    { from: 'M1', label: 'M1', total: 0, cells: { M0: cell(0, null), M1: cell(0, null), closed: cell(0, null), written_off: cell(0, null) } },
  ],
  links: [
    { from: 'M0', to: 'M0', count: 7 },
    { from: 'M0', to: 'M1', count: 2 },
    { from: 'M0', to: 'closed', count: 1 },
  ],
}
const widget = (chart: 'vintage' | 'roll_rate'): Widget => ({
  id: chart,
  title: '',
  chart,
  query: { metrics: [], period: { preset: 'last_12_months' } },
  x: 0,
  y: 0,
  w: 12,
  h: 5,
})
const dashboard = (widgets: Widget[]): Dashboard => ({
  id: 2,
  code: 'risk',
  name: '风险看板',
  name_zh: '风险看板',
  name_en: 'Risk',
  description: '',
  refresh_seconds: 0,
  shared_with: ['risk'],
  is_system: true,
  sort: 20,
  can_edit: false,
  widget_count: widgets.length,
  updated_at: '2026-11-20T00:00:00Z',
  widgets,
})
const loans: RecordsPage = {
  kind: 'loans',
  columns: [
    { key: 'contract_no', label: '合同号' },
    { key: 'owner', label: '客户经理' },
  ],
  items: [{ id: 9, link: '/loans/9', contract_no: 'HT-9', owner: '张三' }],
  total: 1,
  page: 1,
  page_size: 20,
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

describe('analysis chart options', () => {
  it('draws one vintage line per observed cohort, gaps as nulls', () => {
    const option = vintageLines(vintage, 'm1') as { series: { name: string; data: (number | null)[] }[]; xAxis: { data: string[] } }
    expect(option.xAxis.data).toEqual(['MOB1', 'MOB2'])
    expect(option.series.map((s) => s.name)).toEqual(['2026-08', '2026-09'])
    expect(option.series[0]!.data).toEqual([25, 50])
    expect(option.series[1]!.data).toEqual([0, null])
    const m3 = vintageLines(vintage, 'm3') as { series: { data: (number | null)[] }[] }
    expect(m3.series[0]!.data).toEqual([0, null])
  })

  it('links buckets at the previous month end to states at the month end', () => {
    const option = rollRateSankey(rollRate) as {
      series: { data: { name: string }[]; links: { source: string; target: string; value: number }[] }[]
    }
    const s = option.series[0]!
    expect(s.data.map((n) => n.name)).toEqual(['f:M0', 't:M0', 't:M1', 't:closed'])
    expect(s.links).toContainEqual({ source: 'f:M0', target: 't:M1', value: 2 })
  })
})

describe('risk dashboard analysis cards', () => {
  it('shows the roll-rate matrix and opens the loans behind a cell', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: risk },
      'GET /reports/dashboards/2': { body: dashboard([widget('roll_rate')]) },
      'POST /reports/roll-rate': { body: rollRate },
      'POST /reports/analysis/loans': { body: loans },
    })
    let router: Awaited<ReturnType<typeof mountApp>>['router']
    ;({ wrapper, router } = await mountApp('/reports/2'))
    await waitFor(() => !!document.querySelector('[data-testid="roll-rate-matrix"]'))
    const target = document.querySelector<HTMLElement>('[data-testid="cell-M0-M1"]')!
    expect(target.textContent).toContain('20.0%')
    expect(target.textContent).toContain('2')
    expect(calls.find((c) => c.path === '/reports/roll-rate')!.body).toEqual({
      period: { preset: 'last_12_months' },
      filters: {},
    })
    // An empty cell leads nowhere.
    document.querySelector<HTMLElement>('[data-testid="cell-M1-M0"]')!.click()
    await settle()
    expect(calls.some((c) => c.path === '/reports/analysis/loans')).toBe(false)
    target.click()
    await waitFor(() => router.currentRoute.value.path === '/reports/records')
    const a = JSON.parse(String(router.currentRoute.value.query.a)) as Record<string, unknown>
    expect(a).toMatchObject({
      kind: 'roll_rate',
      from_state: 'M0',
      to_state: 'M1',
      period: { preset: 'last_12_months' },
    })
    expect(String(router.currentRoute.value.query.title)).toContain('M0 → M1')
  })

  it('shows the vintage table for M1+ and M3+', async () => {
    mockFetch({
      'GET /auth/me': { body: risk },
      'GET /reports/dashboards/2': { body: dashboard([widget('vintage')]) },
      'POST /reports/vintage': { body: vintage },
    })
    ;({ wrapper } = await mountApp('/reports/2'))
    await waitFor(() => !!document.querySelector('[data-testid="analysis-table"]'))
    document.querySelector<HTMLElement>('[data-testid="analysis-table"]')!.click()
    await waitFor(() => !!document.querySelector('[data-testid="vintage-table"]'))
    const table = document.querySelector<HTMLElement>('[data-testid="vintage-table"]')!
    expect(table.textContent).toContain('50.0%')
    document.querySelector<HTMLElement>('[data-testid="vintage-m3"]')!.click()
    await settle()
    expect(table.textContent).not.toContain('50.0%')
    expect(table.textContent).toContain('—')
  })
})

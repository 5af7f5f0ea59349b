import { describe, expect, it } from 'vitest'
import {
  buildFilters,
  checkCost,
  defaultUnit,
  emptyRow,
  fieldsFor,
  mapServerErrors,
  operatorsFor,
  rowsFromFilters,
  sentRowIndexes,
  splitList,
  suggestKey,
  unitsFor,
  withField,
  type FilterRow,
  type KeyField,
} from '@/components/reports/customMetric'

// The key fields of the demo 贷款申请 form, as /reports/metric-forms sends them.
const fields: KeyField[] = [
  { key: 'customer', label: '客户', label_en: 'Customer', type: 'relation', slot: 'k_n1' },
  { key: 'customer_name', label: '客户姓名', label_en: 'Customer name', type: 'lookup', slot: 'k_t1' },
  {
    key: 'product',
    label: '产品',
    label_en: 'Product',
    type: 'select',
    slot: 'k_t2',
    options: [
      { value: 'consumer', label: '个人消费贷', label_en: 'Consumer loan' },
      { value: 'sme_operating', label: '小微经营贷', label_en: 'SME operating loan' },
    ],
  },
  { key: 'amount', label: '申请金额', label_en: 'Amount', type: 'money', slot: 'k_n2' },
  { key: 'term', label: '期限', label_en: 'Term', type: 'number', slot: 'k_n3' },
  { key: 'signed_on', label: '签约日', label_en: 'Signed on', type: 'date', slot: 'k_d1' },
]
const row = (patch: Partial<FilterRow>): FilterRow => ({ ...emptyRow(), ...patch })

describe('fields an aggregation may use', () => {
  it('offers nothing for count, real numbers for sum/avg, anything for distinct', () => {
    expect(fieldsFor('count', fields)).toEqual([])
    // the customer relation sits in a number column but its ids do not add up
    expect(fieldsFor('sum', fields).map((f) => f.key)).toEqual(['amount', 'term'])
    expect(fieldsFor('avg', fields).map((f) => f.key)).toEqual(['amount', 'term'])
    expect(fieldsFor('distinct', fields)).toHaveLength(fields.length)
  })

  it('picks the display unit like the server and offers only fitting ones', () => {
    expect(defaultUnit('sum', fields[3])).toBe('money')
    expect(defaultUnit('avg', fields[4])).toBe('number')
    expect(defaultUnit('distinct', fields[0])).toBe('count')
    expect(unitsFor('count')).toEqual(['count'])
    expect(unitsFor('sum')).toEqual(['number', 'money', 'percent'])
  })

  it('offers comparisons by field kind', () => {
    expect(operatorsFor(fields[2])).toEqual(['eq', 'ne', 'in'])
    expect(operatorsFor(fields[1])).toContain('contains')
    expect(operatorsFor(fields[3])).not.toContain('contains')
    expect(operatorsFor(fields[5])).toEqual(['eq', 'ne', 'gt', 'gte', 'lt', 'lte'])
  })
})

describe('filter builder → API filters', () => {
  it('builds the list the API evaluates, numbers as exact decimal strings', () => {
    const built = buildFilters(
      [
        row({ field: 'product', op: 'eq', values: ['consumer'] }),
        row({ field: 'amount', op: 'gte', value: ' 100,000.50 ' }),
        row({ field: 'term', op: 'in', value: '12，24、36' }),
        row({ field: 'customer_name', op: 'contains', value: '张' }),
        row({ field: 'signed_on', op: 'lt', value: '2026-06-01' }),
      ],
      fields,
    )
    expect(built.errors).toEqual({})
    expect(built.filters).toEqual([
      { field: 'product', op: 'eq', value: 'consumer' },
      { field: 'amount', op: 'gte', value: '100000.50' },
      { field: 'term', op: 'in', value: ['12', '24', '36'] },
      { field: 'customer_name', op: 'contains', value: '张' },
      { field: 'signed_on', op: 'lt', value: '2026-06-01' },
    ])
  })

  it('turns several picked options under "equals" into "one of"', () => {
    const built = buildFilters([row({ field: 'product', op: 'eq', values: ['consumer', 'sme_operating'] })], fields)
    expect(built.filters).toEqual([{ field: 'product', op: 'in', value: ['consumer', 'sme_operating'] }])
  })

  it('drops empty rows and flags half-filled or mistyped ones by row', () => {
    const rows = [
      emptyRow(),
      row({ field: '', value: '5' }),
      row({ field: 'amount', op: 'gt', value: 'abc' }),
      row({ field: 'signed_on', op: 'eq', value: '2026/06/01' }),
      row({ field: 'term', op: 'eq', value: '' }),
      row({ field: 'ghost', value: 'x' }),
      row({ field: 'term', op: 'eq', value: '12' }),
    ]
    const built = buildFilters(rows, fields)
    expect(built.errors).toEqual({ 1: 'field', 2: 'number', 3: 'date', 4: 'value', 5: 'field' })
    expect(built.filters).toEqual([{ field: 'term', op: 'eq', value: '12' }])
    // the server's filters[0] is builder row 6
    expect(sentRowIndexes(rows, built)).toEqual([6])
  })

  it('falls back to "equals" when the operator does not fit the field', () => {
    const built = buildFilters([row({ field: 'product', op: 'contains', values: ['consumer'] })], fields)
    expect(built.filters).toEqual([{ field: 'product', op: 'eq', value: 'consumer' }])
  })

  it('round-trips a saved metric through the builder', () => {
    const saved = [
      { field: 'product', op: 'in', value: ['consumer', 'sme_operating'] },
      { field: 'amount', op: 'gte', value: '50000' },
      { field: 'term', op: 'in', value: [12, 24] },
    ]
    const rows = rowsFromFilters(saved, fields)
    expect(rows[0]).toEqual({ field: 'product', op: 'in', value: '', values: ['consumer', 'sme_operating'] })
    expect(rows[2]?.value).toBe('12, 24')
    expect(buildFilters(rows, fields).filters).toEqual([
      saved[0],
      saved[1],
      { field: 'term', op: 'in', value: ['12', '24'] },
    ])
  })

  it('resets the operator and value when the field changes', () => {
    expect(withField(row({ field: 'customer_name', op: 'contains', value: '张' }), fields[4])).toEqual({
      field: 'term',
      op: 'eq',
      value: '',
      values: [],
    })
    expect(withField(row({ op: 'gte' }), fields[3]).op).toBe('gte')
  })

  it('splits typed lists on Chinese and ASCII separators', () => {
    expect(splitList('a, b，c、d;e；\nf ,, ')).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
  })
})

describe('server errors and keys', () => {
  it('puts field errors on the inputs and filter errors on the builder rows', () => {
    const out = mapServerErrors({ label: '请填写名称', 'filters[0]': '请输入数字', field: '请选择字段' }, [2])
    expect(out).toEqual({ fields: { label: '请填写名称', field: '请选择字段' }, rows: { 2: '请输入数字' } })
  })

  it('suggests a valid key from the English name', () => {
    expect(suggestKey('Consumer amount (¥)')).toBe('consumer_amount')
    expect(suggestKey('2026 loans')).toBe('loans')
    expect(suggestKey('', 36 ** 5 * 11)).toMatch(/^m_[0-9a-z]{6}$/)
    expect(suggestKey('消费贷', 1234567)).toMatch(/^m_[0-9a-z]+$/)
  })
})

describe('channel cost input', () => {
  it('accepts yuan with up to two decimals and normalises them', () => {
    expect(checkCost('12000.5')).toEqual({ value: '12000.50' })
    expect(checkCost(' ¥1,234 ')).toEqual({ value: '1234.00' })
    expect(checkCost('0')).toEqual({ value: '0.00' })
    expect(checkCost('-0')).toEqual({ value: '0.00' })
    expect(checkCost('007.10')).toEqual({ value: '7.10' })
    expect(checkCost('1000000000')).toEqual({ value: '1000000000.00' })
    expect(checkCost('1.230')).toEqual({ value: '1.23' })
  })

  it('says what is wrong with the rest', () => {
    expect(checkCost('')).toEqual({ error: 'number' })
    expect(checkCost('abc')).toEqual({ error: 'number' })
    expect(checkCost('1e5')).toEqual({ error: 'number' })
    expect(checkCost('-5')).toEqual({ error: 'negative' })
    expect(checkCost('1.234')).toEqual({ error: 'precision' })
    expect(checkCost('1000000000.01')).toEqual({ error: 'tooLarge' })
    expect(checkCost('99999999999')).toEqual({ error: 'tooLarge' })
  })
})

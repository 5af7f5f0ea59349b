/**
 * The custom-metric editor's logic (pure, unit-tested): which fields an aggregation may use,
 * which comparisons a field offers, the filter builder's rows ⇄ the API's filter list
 * (`[{field, op, value}]`, evaluated by reports/custom.py on the key-field columns), the
 * display units, and the server's field errors mapped back onto the form.
 */

export type Aggregation = 'count' | 'sum' | 'avg' | 'distinct'
export type Operator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains'
export type MetricUnit = 'count' | 'number' | 'money' | 'percent'

export interface KeyFieldOption {
  value: string
  label: string
  label_en: string
}

export interface KeyField {
  key: string
  label: string
  label_en: string
  type: string
  /** Key-field column: k_t* text, k_n* number, k_d* date (ADR 0003). */
  slot: string
  options?: KeyFieldOption[]
}

export interface ApiFilter {
  field: string
  op: Operator
  value: string | string[]
}

/** One row of the builder, as typed: `values` holds the picked options of a choice field. */
export interface FilterRow {
  field: string
  op: Operator
  value: string
  values: string[]
}

export const AGGREGATIONS: Aggregation[] = ['count', 'sum', 'avg', 'distinct']
/** Field types that add up (a relation's customer id also sits in a number column). */
export const NUMBER_TYPES = ['number', 'money', 'percent', 'rating', 'slider', 'formula']

export type FieldKind = 'text' | 'number' | 'date'

export function fieldKind(f: Pick<KeyField, 'slot'>): FieldKind {
  if (f.slot.startsWith('k_n')) return 'number'
  if (f.slot.startsWith('k_d')) return 'date'
  return 'text'
}

/** The fields the aggregation can use: none for count, numbers for sum/avg, any for distinct. */
export function fieldsFor(agg: Aggregation, fields: KeyField[]): KeyField[] {
  if (agg === 'count') return []
  if (agg === 'distinct') return fields
  return fields.filter((f) => fieldKind(f) === 'number' && NUMBER_TYPES.includes(f.type))
}

export function operatorsFor(f: Pick<KeyField, 'slot' | 'options'> | undefined): Operator[] {
  if (!f) return ['eq']
  if (f.options?.length) return ['eq', 'ne', 'in']
  const kind = fieldKind(f)
  if (kind === 'text') return ['eq', 'ne', 'in', 'contains']
  if (kind === 'date') return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte']
  return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in']
}

export function unitsFor(agg: Aggregation): MetricUnit[] {
  return agg === 'count' || agg === 'distinct' ? ['count'] : ['number', 'money', 'percent']
}

/** What the server picks when the admin does not: money for a money field, and so on. */
export function defaultUnit(agg: Aggregation, f: Pick<KeyField, 'type'> | undefined): MetricUnit {
  if (agg === 'count' || agg === 'distinct') return 'count'
  if (f?.type === 'money') return 'money'
  if (f?.type === 'percent') return 'percent'
  return 'number'
}

/** A key from a label: lower-case ASCII, digits and _ (the server's rule), e.g. `m_1a2b`. */
export function suggestKey(label: string, now: number = Date.now()): string {
  const ascii = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^[^a-z]+/, '')
    .slice(0, 30)
  return ascii || `m_${now.toString(36).slice(-6)}`
}

export function emptyRow(): FilterRow {
  return { field: '', op: 'eq', value: '', values: [] }
}

const NUMBER = /^-?\d+(\.\d+)?$/
const DATE = /^\d{4}-\d{2}-\d{2}$/

/** Splits a typed list: commas (also Chinese ，、), semicolons or new lines. */
export function splitList(text: string): string[] {
  return text
    .split(/[,，、;；\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
}

export type RowError = 'field' | 'value' | 'number' | 'date'

export interface BuiltFilters {
  filters: ApiFilter[]
  /** Row index → what is wrong with it (a locale key under reportsAdmin.metric.errors). */
  errors: Record<number, RowError>
}

/**
 * Builder rows → the API's filter list. Numbers stay decimal strings (exact, the server
 * reads them as Decimal), lists are split, choice fields send their picked option values.
 * Rows left completely empty are dropped; half-filled ones are errors.
 */
export function buildFilters(rows: FilterRow[], fields: KeyField[]): BuiltFilters {
  const filters: ApiFilter[] = []
  const errors: Record<number, RowError> = {}
  rows.forEach((row, i) => {
    const typed = row.value.trim()
    if (!row.field && !typed && !row.values.length) return
    const f = fields.find((x) => x.key === row.field)
    if (!f) {
      errors[i] = 'field'
      return
    }
    const kind = fieldKind(f)
    const op = operatorsFor(f).includes(row.op) ? row.op : 'eq'
    let values: string[]
    if (f.options?.length) values = row.values.length ? row.values : typed ? [typed] : []
    else values = op === 'in' ? splitList(typed) : typed ? [typed] : []
    if (!values.length) {
      errors[i] = 'value'
      return
    }
    if (kind === 'number') {
      values = values.map((v) => v.replace(/,/g, ''))
      if (!values.every((v) => NUMBER.test(v))) {
        errors[i] = 'number'
        return
      }
    }
    if (kind === 'date' && !values.every((v) => DATE.test(v))) {
      errors[i] = 'date'
      return
    }
    if (op !== 'in' && values.length > 1) {
      filters.push({ field: f.key, op: 'in', value: values })
      return
    }
    filters.push({ field: f.key, op, value: op === 'in' ? values : (values[0] ?? '') })
  })
  return { filters, errors }
}

/** The API's filter list → builder rows (to edit a saved metric). */
export function rowsFromFilters(filters: { field: string; op: string; value: unknown }[], fields: KeyField[]): FilterRow[] {
  return filters.map((flt) => {
    const f = fields.find((x) => x.key === flt.field)
    const list = Array.isArray(flt.value) ? flt.value.map(String) : flt.value == null ? [] : [String(flt.value)]
    const op = (flt.op || 'eq') as Operator
    if (f?.options?.length) return { field: flt.field, op, value: '', values: list }
    return { field: flt.field, op, value: list.join(', '), values: [] }
  })
}

/** Keeps a row consistent when its field changes: a valid operator, no stale value. */
export function withField(row: FilterRow, field: KeyField | undefined): FilterRow {
  const ops = operatorsFor(field)
  return { field: field?.key ?? '', op: ops.includes(row.op) ? row.op : (ops[0] ?? 'eq'), value: '', values: [] }
}

export interface FormErrors {
  fields: Record<string, string>
  rows: Record<number, string>
}

/**
 * The server's details.fields (`label`, `field`, `filters[2]`, …) onto the editor's inputs;
 * `sent[i]` is the builder row of the i-th filter sent (see sentRowIndexes).
 */
export function mapServerErrors(fields: Record<string, string>, sent: number[] = []): FormErrors {
  const out: FormErrors = { fields: {}, rows: {} }
  for (const [name, text] of Object.entries(fields)) {
    const m = /^filters\[(\d+)\]/.exec(name)
    if (m) out.rows[sent[Number(m[1])] ?? Number(m[1])] = text
    else out.fields[name.split('.')[0] ?? name] = text
  }
  return out
}

/** Server indexes count only the rows sent: map them back to the builder's row numbers. */
export function sentRowIndexes(rows: FilterRow[], built: BuiltFilters): number[] {
  const out: number[] = []
  rows.forEach((row, i) => {
    if (built.errors[i] !== undefined) return
    if (!row.field && !row.value.trim() && !row.values.length) return
    out.push(i)
  })
  return out
}

/** A month as the API wants it (YYYY-MM), from a date. */
export function monthOf(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
}

export type CostError = 'number' | 'negative' | 'tooLarge' | 'precision'
export const MAX_COST = 1_000_000_000

/**
 * Checks a typed channel cost before sending it (the server checks again): yuan with at most
 * two decimals, 0 … 1,000,000,000. Returns the normalised decimal string or the error. No
 * floating point: the text is compared as digits.
 */
export function checkCost(text: string): { value: string } | { error: CostError } {
  const t = text.trim().replace(/[,，\s]/g, '').replace(/^¥/, '')
  if (!/^-?\d+(\.\d*)?$/.test(t)) return { error: 'number' }
  if (t.startsWith('-') && /[1-9]/.test(t)) return { error: 'negative' }
  const [int = '', frac = ''] = t.replace(/^-/, '').split('.')
  if (frac.replace(/0+$/, '').length > 2) return { error: 'precision' }
  const whole = int.replace(/^0+(?=\d)/, '')
  const cents = (frac + '00').slice(0, 2)
  const max = String(MAX_COST)
  if (whole.length > max.length || (whole.length === max.length && (whole > max || (whole === max && cents !== '00'))))
    return { error: 'tooLarge' }
  return { value: `${whole}.${cents}` }
}

/**
 * Plain functions behind the form renderer and designer (no Vue): values, visibility (JSON-logic
 * with json-logic-js, fed the same values the server's conditions see), the payload sent to the
 * server, 422 field paths, field keys and the visibility condition builder.
 */
import jsonLogic from 'json-logic-js'
import type { FieldSchema, FormSchema, JsonLogic } from '@/api/forms'

export type Values = Record<string, unknown>

/** Computed by the server (formula, 大写金额, looked-up value, serial number). */
export const DERIVED_TYPES: ReadonlySet<string> = new Set(['formula', 'amount_capital', 'lookup', 'serial'])
export const LAYOUT_TYPES: ReadonlySet<string> = new Set(['section', 'description'])
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['number', 'money', 'percent', 'slider', 'rating'])
const LIST_TYPES: ReadonlySet<string> = new Set(['multiselect', 'checkbox', 'image', 'attachment', 'subtable'])
const REF_TYPES: ReadonlySet<string> = new Set(['user', 'department', 'relation'])

export const isDerived = (f: FieldSchema): boolean => DERIVED_TYPES.has(f.type)
export const isLayout = (f: FieldSchema): boolean => LAYOUT_TYPES.has(f.type)
export const isInput = (f: FieldSchema): boolean => !isDerived(f) && !isLayout(f)
export const isNumericType = (type: string): boolean => NUMERIC_TYPES.has(type)

export function isBlank(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true
  if (Array.isArray(v)) return v.length === 0
  if (typeof v === 'object') return Object.keys(v as object).length === 0
  return false
}

/** The widget's starting value for a field (its default, else empty). */
export function emptyValue(f: FieldSchema): unknown {
  if (f.type === 'subtable') {
    const min = Number(f.validation?.min_rows ?? 0) || 0
    return Array.from({ length: min }, () => emptyRow(f))
  }
  if (f.default !== undefined && f.default !== null) {
    const d = f.default
    return Array.isArray(d) ? [...d] : typeof d === 'object' ? { ...(d as object) } : d
  }
  if (LIST_TYPES.has(f.type)) return []
  if (f.type === 'switch') return false
  return null
}

export function emptyRow(sub: FieldSchema): Values {
  const row: Values = {}
  for (const c of sub.children ?? []) if (isInput(c)) row[c.key] = emptyValue(c)
  return row
}

/** Starting values: defaults, overlaid with stored data (editing a record). */
export function initialValues(schema: FormSchema, data: Values = {}): Values {
  const out: Values = {}
  for (const f of schema.fields) {
    if (!isInput(f)) continue
    if (f.key in data && data[f.key] !== null && data[f.key] !== undefined) {
      out[f.key] = fromStored(f, data[f.key])
    } else out[f.key] = emptyValue(f)
  }
  return out
}

/** A stored value (as the API returns it) → the widget's value. */
function fromStored(f: FieldSchema, v: unknown): unknown {
  if (f.type === 'subtable' && Array.isArray(v)) {
    return v.map((row) => {
      const out: Values = {}
      for (const c of f.children ?? []) {
        if (!isInput(c)) continue
        const cell = (row as Values)[c.key]
        out[c.key] = cell === null || cell === undefined ? emptyValue(c) : fromStored(c, cell)
      }
      return out
    })
  }
  if ((f.type === 'image' || f.type === 'attachment') && Array.isArray(v)) {
    return v.map((id) => (typeof id === 'string' ? { id, name: '' } : id))
  }
  if (REF_TYPES.has(f.type) && typeof v === 'number') return { id: v, label: '' }
  if (f.type === 'datetime' && typeof v === 'string') return utcToLocal(v)
  if (f.type === 'rating' && typeof v === 'string') return Number(v)
  if (NUMERIC_TYPES.has(f.type) && typeof v === 'number') return String(v)
  return v
}

// --- dates: the server's zone is Asia/Shanghai (UTC+8, no daylight saving) ----------------------

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000

/** "2026-03-01T02:30:00Z" → "2026-03-01T10:30" (Shanghai wall time). */
export function utcToLocal(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Date(d.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 16)
}

/** "2026-03-01T10:30" (Shanghai wall time) → "2026-03-01T02:30:00Z", as the server stores it. */
export function localToUtc(local: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2})?$/.exec(local)
  if (!m) return null
  const d = new Date(`${m[1]}T${m[2]}:00+08:00`)
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace('.000Z', 'Z')
}

// --- what conditions see ----------------------------------------------------------------------

const DECIMAL = /^[+-]?\d+(\.\d+)?$/

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v !== 'string') return null
  const text = v.trim().replace(/,/g, '')
  return DECIMAL.test(text) ? Number(text) : null
}

function refId(v: unknown): unknown {
  if (v && typeof v === 'object' && 'id' in (v as object)) return (v as { id: unknown }).id
  return v
}

/**
 * The value a JSON-logic condition sees for one field, as the server's `cond()` gives it after
 * JSON: numbers as numbers (percent in points), dates as ISO text, choices as option values,
 * references as ids, blanks as null.
 */
export function condValue(f: FieldSchema, v: unknown): unknown {
  if (isBlank(v)) return f.type === 'switch' ? null : null
  switch (f.type) {
    case 'number':
    case 'money':
    case 'percent':
    case 'slider':
    case 'rating':
      return toNumber(v)
    case 'text':
    case 'phone':
    case 'email':
    case 'url':
    case 'id_number':
    case 'uscc':
    case 'bank_card':
      return typeof v === 'string' ? v.trim().split(/\s+/).join(' ') || null : v
    case 'textarea':
      return typeof v === 'string' ? v.trim() || null : v
    case 'switch':
      return v === true
    case 'datetime':
      return typeof v === 'string' ? localToUtc(v) : null
    case 'region':
      return (v as { codes?: unknown }).codes ?? null
    case 'address': {
      const a = v as { codes?: string[]; names?: string[]; detail?: string }
      const place = a.names?.length ? a.names.join('') : (a.codes ?? []).join('/')
      return a.detail ? place + a.detail : null
    }
    case 'user':
    case 'department':
    case 'relation':
      return refId(v)
    case 'image':
    case 'attachment':
      return (v as unknown[]).map(refId)
    case 'multiselect':
    case 'checkbox':
      return v
    default:
      return v
  }
}

/** A server-computed value (formula, 大写金额…) as conditions see it. */
export function derivedCondValue(f: FieldSchema, v: unknown): unknown {
  if (isBlank(v)) return null
  if (f.type === 'formula') {
    const kind = String(f.settings?.result_type ?? 'number')
    if (kind === 'number' || kind === 'money' || kind === 'percent') return toNumber(v)
  }
  return v
}

export type Visibility = Record<string, boolean>

function holds(logic: JsonLogic | null | undefined, data: Values): boolean {
  if (logic === null || logic === undefined) return true
  if (typeof logic === 'boolean') return logic
  if (Object.keys(logic).length === 0) return true
  try {
    return jsonLogic.truthy(jsonLogic.apply(logic as jsonLogic.RulesLogic, data))
  } catch {
    return false // as the server: a condition that cannot be evaluated hides its field
  }
}

/**
 * Which fields show, for the current values: top-level keys and sub-table cells
 * ("co_borrowers[0].name"). A hidden field counts as blank for the conditions after it
 * (the server works the same way), so this repeats until nothing changes.
 */
export function computeVisibility(schema: FormSchema, values: Values, computed: Values = {}): Visibility {
  const fields = schema.fields.filter((f) => !isLayout(f) || f.visible_when)
  const base: Values = {}
  for (const f of schema.fields) {
    if (isLayout(f)) continue
    base[f.key] = isDerived(f) ? derivedCondValue(f, computed[f.key]) : condValue(f, values[f.key])
  }
  const visible: Visibility = {}
  for (const f of schema.fields) visible[f.key] = true
  for (let pass = 0; pass <= fields.length; pass++) {
    const data: Values = {}
    for (const [k, v] of Object.entries(base)) data[k] = visible[k] === false ? null : v
    let changed = false
    for (const f of fields) {
      const shown = holds(f.visible_when, data)
      if (visible[f.key] !== shown) {
        visible[f.key] = shown
        changed = true
      }
    }
    if (!changed) break
  }
  // sub-table cells: the row's own cells plus the form's fields
  const top: Values = {}
  for (const [k, v] of Object.entries(base)) top[k] = visible[k] === false ? null : v
  for (const sub of schema.fields) {
    if (sub.type !== 'subtable' || !visible[sub.key]) continue
    const rows = Array.isArray(values[sub.key]) ? (values[sub.key] as Values[]) : []
    const children = (sub.children ?? []).filter((c) => c.visible_when)
    if (!children.length) continue
    rows.forEach((row, i) => {
      const data: Values = { ...top }
      for (const c of sub.children ?? []) {
        if (isLayout(c)) continue
        data[c.key] = isDerived(c)
          ? derivedCondValue(c, computed[`${sub.key}[${i}].${c.key}`])
          : condValue(c, row[c.key])
      }
      for (const c of children) {
        const shown = holds(c.visible_when, data)
        visible[`${sub.key}[${i}].${c.key}`] = shown
        if (!shown) data[c.key] = null
      }
    })
  }
  return visible
}

// --- what is sent -------------------------------------------------------------------------------

function toPayloadValue(f: FieldSchema, v: unknown): unknown {
  if (v === undefined) return null
  if (f.type === 'datetime' && typeof v === 'string' && v) return localToUtc(v) ?? v
  if ((f.type === 'image' || f.type === 'attachment') && Array.isArray(v)) return v.map(refId)
  if (REF_TYPES.has(f.type)) return isBlank(v) ? null : refId(v)
  if (f.type === 'rating' && (v === 0 || v === null)) return null
  if (f.type === 'slider' && typeof v === 'number') return String(v)
  if (f.type === 'address' && v && typeof v === 'object') {
    const a = v as { codes?: string[]; detail?: string }
    if (isBlank(a.codes) && !a.detail) return null
  }
  return v
}

/**
 * The `data` of a submission: input fields only (computed and layout fields are the server's),
 * fields hidden by their condition left out, read-only ones too (the server keeps the stored value).
 * Sub-table rows keep their positions so that error paths ("rows[2].name") match the cards.
 */
export function buildPayload(schema: FormSchema, values: Values, visible: Visibility): Values {
  const out: Values = {}
  for (const f of schema.fields) {
    if (!isInput(f) || f.readonly || visible[f.key] === false) continue
    if (f.type === 'subtable') {
      const rows = Array.isArray(values[f.key]) ? (values[f.key] as Values[]) : []
      out[f.key] = rows.map((row, i) => {
        const cells: Values = {}
        for (const c of f.children ?? []) {
          if (!isInput(c) || visible[`${f.key}[${i}].${c.key}`] === false) continue
          cells[c.key] = toPayloadValue(c, row[c.key])
        }
        return cells
      })
      continue
    }
    out[f.key] = toPayloadValue(f, values[f.key])
  }
  return out
}

// --- 422 field messages ---------------------------------------------------------------------------

/** Every path an error can be shown at: top-level keys and "sub[i].child" cells. */
export function fieldPaths(schema: FormSchema, values: Values): Set<string> {
  const paths = new Set<string>()
  for (const f of schema.fields) {
    paths.add(f.key)
    if (f.type === 'subtable') {
      const rows = Array.isArray(values[f.key]) ? (values[f.key] as unknown[]) : []
      rows.forEach((_, i) => {
        paths.add(`${f.key}[${i}]`)
        for (const c of f.children ?? []) paths.add(`${f.key}[${i}].${c.key}`)
      })
    }
  }
  return paths
}

/** "rows.2.name" / "rows[2][name]" / "data.rows[2].name" → "rows[2].name". */
export function normalizePath(path: string): string {
  let p = path.startsWith('data.') ? path.slice(5) : path
  p = p.replace(/\.(\d+)(?=\.|$)/g, '[$1]').replace(/\[([a-z][a-z0-9_]*)\]/g, '.$1')
  return p
}

/**
 * A 422's field messages split into those shown under a field (by path) and the rest
 * (shown above the form).
 */
export function mapFieldErrors(
  fields: Record<string, string>,
  schema: FormSchema,
  values: Values,
): { byPath: Record<string, string>; other: string[] } {
  const known = fieldPaths(schema, values)
  const byPath: Record<string, string> = {}
  const other: string[] = []
  for (const [raw, message] of Object.entries(fields)) {
    const path = normalizePath(raw)
    if (known.has(path)) byPath[path] = message
    else other.push(message)
  }
  return { byPath, other }
}

// --- keys -----------------------------------------------------------------------------------------

export const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'serial_no',
  'owner',
  'created_at',
  'updated_at',
  'id',
  'form',
  'version',
  'data',
  'sms_code',
  'website',
])

export type KeyProblem = 'empty' | 'format' | 'reserved' | 'duplicate' | null

export function keyProblem(key: string, others: Iterable<string>): KeyProblem {
  if (!key) return 'empty'
  if (!KEY_RE.test(key)) return 'format'
  if (RESERVED_KEYS.has(key)) return 'reserved'
  for (const o of others) if (o === key) return 'duplicate'
  return null
}

/** "Monthly income (¥)" → "monthly_income"; '' when nothing Latin is left. */
export function slugify(text: string): string {
  let s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  s = s.replace(/^[0-9_]+/, '')
  return s.slice(0, 40).replace(/_+$/, '')
}

/**
 * A key for a new or relabelled field: from the English label, else a Latin label, else
 * "<type>_<n>"; made unique among `taken` with a numeric suffix.
 */
export function makeKey(label: string, labelEn: string | undefined, type: string, taken: Iterable<string>): string {
  const used = new Set(taken)
  const base = slugify(labelEn ?? '') || slugify(label) || `${type}`
  let stem = KEY_RE.test(base) ? base : `f_${base}`.slice(0, 40)
  if (RESERVED_KEYS.has(stem)) stem = `${stem}_1`
  const fromLabel = stem !== type
  if (fromLabel && !used.has(stem)) return stem
  for (let n = 1; n < 10000; n++) {
    const suffix = `_${n}`
    const candidate = stem.slice(0, 40 - suffix.length) + suffix
    if (!used.has(candidate)) return candidate
  }
  return `f_${Date.now()}`
}

// --- the visibility condition builder ---------------------------------------------------------------

export type CondOp = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'empty' | 'not_empty' | 'in' | 'contains'
export interface CondRule {
  field: string
  op: CondOp
  /** Text as typed; numbers are sent as numbers for numeric fields, booleans for switches. */
  value: string
}
export interface CondGroup {
  mode: 'and' | 'or'
  rules: CondRule[]
}
export interface CondModel {
  mode: 'and' | 'or'
  groups: CondGroup[]
}

export const COND_OPS: readonly CondOp[] = ['==', '!=', '>', '>=', '<', '<=', 'empty', 'not_empty', 'contains', 'in']
export const NO_VALUE_OPS: ReadonlySet<CondOp> = new Set(['empty', 'not_empty'])

/** Operators that make sense for a field type. */
export function opsFor(type: string): CondOp[] {
  if (NUMERIC_TYPES.has(type) || type === 'formula') return ['==', '!=', '>', '>=', '<', '<=', 'empty', 'not_empty']
  if (type === 'date' || type === 'datetime' || type === 'time') return ['==', '!=', '>', '>=', '<', '<=', 'empty', 'not_empty']
  if (type === 'switch') return ['==']
  if (type === 'multiselect' || type === 'checkbox') return ['contains', 'empty', 'not_empty']
  if (type === 'select' || type === 'radio') return ['==', '!=', 'in', 'empty', 'not_empty']
  return ['==', '!=', 'contains', 'empty', 'not_empty']
}

function typedValue(rule: CondRule, type: string | undefined): unknown {
  const text = rule.value.trim()
  if (type === 'switch') return text === 'true'
  if (type && (NUMERIC_TYPES.has(type) || type === 'formula')) {
    const n = toNumber(text)
    return n === null ? text : n
  }
  return text
}

function ruleLogic(rule: CondRule, types: Record<string, string>): Record<string, unknown> {
  const v = { var: rule.field }
  const type = types[rule.field]
  switch (rule.op) {
    case 'empty':
      return { '!': v }
    case 'not_empty':
      return { '!!': v }
    case 'contains':
      return { in: [rule.value.trim(), v] }
    case 'in':
      return {
        in: [
          v,
          rule.value
            .split(/[,，]/)
            .map((s) => s.trim())
            .filter(Boolean),
        ],
      }
    default:
      return { [rule.op]: [v, typedValue(rule, type)] }
  }
}

/**
 * The builder's model → JSON-logic. One rule stays bare, one group is not wrapped twice;
 * rules without a field are skipped; nothing left → null (always visible).
 */
export function builderToLogic(model: CondModel, types: Record<string, string>): Record<string, unknown> | null {
  const groups = model.groups
    .map((g) => {
      const rules = g.rules.filter((r) => r.field).map((r) => ruleLogic(r, types))
      if (rules.length === 0) return null
      return rules.length === 1 ? rules[0]! : { [g.mode]: rules }
    })
    .filter((g): g is Record<string, unknown> => g !== null)
  if (groups.length === 0) return null
  return groups.length === 1 ? groups[0]! : { [model.mode]: groups }
}

function varName(node: unknown): string | null {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return null
  const entries = Object.entries(node as object)
  if (entries.length !== 1 || entries[0]![0] !== 'var') return null
  const arg = entries[0]![1] as unknown
  const name = Array.isArray(arg) ? arg[0] : arg
  return typeof name === 'string' ? name : null
}

function logicToRule(node: unknown): CondRule | null {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return null
  const entries = Object.entries(node as object)
  if (entries.length !== 1) return null
  const [op, raw] = entries[0]! as [string, unknown]
  const args = Array.isArray(raw) ? raw : [raw]
  if (op === '!' || op === '!!') {
    const field = varName(args[0])
    return field ? { field, op: op === '!' ? 'empty' : 'not_empty', value: '' } : null
  }
  if (op === 'in' && args.length === 2) {
    const field = varName(args[1])
    if (field && (typeof args[0] === 'string' || typeof args[0] === 'number'))
      return { field, op: 'contains', value: String(args[0]) }
    const left = varName(args[0])
    if (left && Array.isArray(args[1]) && args[1].every((x) => typeof x === 'string' || typeof x === 'number'))
      return { field: left, op: 'in', value: (args[1] as unknown[]).join(',') }
    return null
  }
  if (['==', '!=', '>', '>=', '<', '<='].includes(op) && args.length === 2) {
    const field = varName(args[0])
    const v = args[1]
    if (!field || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) return null
    return { field, op: op as CondOp, value: String(v) }
  }
  return null
}

function logicToGroup(node: unknown): CondGroup | null {
  const single = logicToRule(node)
  if (single) return { mode: 'and', rules: [single] }
  if (!node || typeof node !== 'object' || Array.isArray(node)) return null
  const entries = Object.entries(node as object)
  if (entries.length !== 1) return null
  const [mode, raw] = entries[0]! as [string, unknown]
  if ((mode !== 'and' && mode !== 'or') || !Array.isArray(raw)) return null
  const rules = raw.map(logicToRule)
  if (rules.some((r) => r === null)) return null
  return { mode, rules: rules as CondRule[] }
}

/** JSON-logic → the builder's model, or null when it is not one the builder makes (edit as JSON). */
export function logicToBuilder(logic: unknown): CondModel | null {
  if (logic === null || logic === undefined) return { mode: 'and', groups: [] }
  const group = logicToGroup(logic)
  if (group) return { mode: 'and', groups: [group] }
  if (!logic || typeof logic !== 'object' || Array.isArray(logic)) return null
  const entries = Object.entries(logic as object)
  if (entries.length !== 1) return null
  const [mode, raw] = entries[0]! as [string, unknown]
  if ((mode !== 'and' && mode !== 'or') || !Array.isArray(raw)) return null
  const groups = raw.map(logicToGroup)
  if (groups.some((g) => g === null)) return null
  return { mode, groups: groups as CondGroup[] }
}

/** The fields whose condition or formula mentions `key` (for warnings when deleting it). */
export function referencesTo(schema: FormSchema, key: string): string[] {
  const re = new RegExp(`(^|[^A-Za-z0-9_.])${key}(?![A-Za-z0-9_])`)
  const out: string[] = []
  const walk = (fields: FieldSchema[], prefix: string): void => {
    for (const f of fields) {
      if (f.key === key && !prefix) continue
      const inCondition = f.visible_when ? JSON.stringify(f.visible_when).includes(`"${key}"`) : false
      const inFormula = f.formula ? re.test(f.formula) : false
      const source = f.settings?.source === key || f.settings?.relation === key
      if (inCondition || inFormula || source) out.push(prefix + f.key)
      if (f.children) walk(f.children, `${f.key}.`)
    }
  }
  walk(schema.fields, '')
  return out
}

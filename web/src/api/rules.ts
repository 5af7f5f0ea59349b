import { http, type RequestOptions } from './client'
import type { FieldSchema, JsonLogic } from './forms'

/** Permission to design rules and see / retry their firings. */
export const DESIGN_RULES_PERM = 'rules.design'

export type TriggerType = 'event' | 'date' | 'cron'
export type EventKind = 'created' | 'updated' | 'field_changed' | 'event'
export type FiringStatus = 'running' | 'done' | 'failed'

export interface RuleAction {
  action: string
  params: Record<string, unknown>
}

/** What the designer edits and sends (POST /rules, PUT /rules/{id}, POST /rules/test). */
export interface RuleBody {
  name: string
  description: string
  enabled: boolean
  record_type: string
  form_code: string
  trigger_type: TriggerType
  /** event: {kind, field?, to?, topic?}; date: {field, days, at: 'HH:MM'}; cron: {cron} */
  trigger: Record<string, unknown>
  condition: JsonLogic | null
  actions: RuleAction[]
}

export interface FiringBrief {
  id: number
  status: FiringStatus
  created_at: string
}

export interface Rule extends RuleBody {
  id: number
  code: string | null
  watermark: string | null
  run_as: { id: number; name: string } | null
  updated_at: string
  /** Actions no installed app provides yet: firings fail until one does. */
  unknown_actions: string[]
  /** Display names of the trigger's field, target option and topic (caller's language). */
  labels: { field?: string; to?: string; topic?: string }
  counts: { done: number; failed: number }
  last_firing: FiringBrief | null
}

export interface ActionResultRow {
  action: string
  ok: boolean
  result?: Record<string, unknown>
  error?: string
  rolled_back?: boolean
}

export interface Firing {
  id: number
  rule_id: number
  rule_name: string
  key: string
  record_type: string
  record_id: number | null
  record_label: string
  trigger_type: TriggerType
  occurrence: string
  occurred_at: string
  status: FiringStatus
  results: ActionResultRow[]
  error: string
  attempts: number
  created_at: string
  started_at: string | null
  finished_at: string | null
  duration_ms: number
}

export interface FiringPage {
  items: Firing[]
  count: number
  page: number
  page_size: number
}

export interface Option {
  value: string
  label: string
  label_en: string
}

export interface ParamSpec {
  key: string
  label: string
  label_en: string
  type: string
  required: boolean
  options: Option[]
  default: unknown
}

export interface ActionSpec {
  name: string
  label: string
  label_en: string
  params: ParamSpec[]
  /** Empty: every record type. */
  record_types: string[]
}

export interface RuleField extends FieldSchema {
  settable: boolean
  date_trigger: boolean
}

export interface RecordType {
  key: string
  label: string
  label_en: string
  needs_form: boolean
  topics: { topic: string; label: string; label_en: string }[]
  forms: { code: string; name: string }[]
}

export interface RecordOption {
  id: number
  label: string
}

export interface TestResult {
  record: RecordOption | null
  values: Record<string, unknown>
  condition: { result: boolean; error: string }
  trigger: { occurrence?: string | null; future?: boolean; next?: string[] }
  actions: ActionResultRow[]
  error: string
  would_fire: boolean
}

export interface FiringFilters {
  rule?: number
  status?: FiringStatus | ''
  record_type?: string
  page?: number
  page_size?: number
}

type Options = Omit<RequestOptions, 'body'>

export const rulesApi = {
  list: (options?: Options) => http.get<Rule[]>('/rules', undefined, options),
  get: (id: number, options?: Options) => http.get<Rule>(`/rules/${id}`, undefined, options),
  create: (body: RuleBody, options?: Options) => http.post<Rule>('/rules', body, options),
  update: (id: number, body: RuleBody, options?: Options) => http.put<Rule>(`/rules/${id}`, body, options),
  setEnabled: (id: number, enabled: boolean, options?: Options) =>
    http.post<Rule>(`/rules/${id}/enabled`, { enabled }, options),
  remove: (id: number, options?: Options) => http.delete<void>(`/rules/${id}`, options),
  actions: (options?: Options) => http.get<ActionSpec[]>('/rules/actions', undefined, options),
  recordTypes: (options?: Options) => http.get<RecordType[]>('/rules/record-types', undefined, options),
  fields: (recordType: string, form = '', options?: Options) =>
    http.get<RuleField[]>('/rules/fields', { record_type: recordType, form }, options),
  records: (recordType: string, q = '', form = '', options?: Options) =>
    http.get<RecordOption[]>('/rules/records', { record_type: recordType, form, q }, options),
  test: (rule: RuleBody, recordId: number | null, options?: Options) =>
    http.post<TestResult>('/rules/test', { rule, record_id: recordId }, options),
  firings: (filters: FiringFilters = {}, options?: Options) =>
    http.get<FiringPage>('/rules/firings', { ...filters }, options),
  retry: (id: number, options?: Options) => http.post<Firing>(`/rules/firings/${id}/retry`, {}, options),
}

/** A blank rule for the designer. */
export function emptyRule(): RuleBody {
  return {
    name: '',
    description: '',
    enabled: false,
    record_type: 'loan',
    form_code: '',
    trigger_type: 'event',
    trigger: { kind: 'created' },
    condition: null,
    actions: [],
  }
}

/** The editable body of a saved rule. */
export function bodyOf(rule: Rule): RuleBody {
  return {
    name: rule.name,
    description: rule.description,
    enabled: rule.enabled,
    record_type: rule.record_type,
    form_code: rule.form_code,
    trigger_type: rule.trigger_type,
    trigger: { ...rule.trigger },
    condition: rule.condition ?? null,
    actions: rule.actions.map((a) => ({ action: a.action, params: { ...a.params } })),
  }
}

/** Starting params of an action: each spec's default. */
export function defaultParams(spec: ActionSpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const p of spec?.params ?? []) {
    if (p.default !== null && p.default !== undefined) out[p.key] = p.default
    else if (p.type === 'fields') out[p.key] = {}
  }
  return out
}

/** Actions usable for a record type (an action without a list fits every type). */
export function actionsFor(actions: ActionSpec[], recordType: string): ActionSpec[] {
  return actions.filter((a) => a.record_types.length === 0 || a.record_types.includes(recordType))
}

/** Field changes of update_fields as editable rows, and back. */
export function fieldRows(value: unknown): { key: string; value: string }[] {
  if (!value || typeof value !== 'object') return []
  return Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: v == null ? '' : String(v) }))
}
export function rowsToFields(rows: { key: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of rows) if (r.key) out[r.key] = r.value
  return out
}

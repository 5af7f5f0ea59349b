/**
 * Form engine API (/api/v1/forms, signed in) and its public side (/api/v1/public, no login).
 * Shapes follow src/loandesk/forms/schemas.py; the form schema follows forms/schema.py.
 */
import { ApiError, buildUrl, ensureCsrfToken, http, readCookie, CSRF_COOKIE, type Query } from './client'
import { currentLocale } from '@/i18n'

export const FORMS_PERMS = {
  design: 'forms.design',
  viewRecords: 'forms.view_records',
  submit: 'forms.submit',
  manageLinks: 'forms.manage_links',
  export: 'forms.export',
  viewPii: 'forms.view_pii',
} as const

export type FieldMode = 'hidden' | 'readonly' | 'editable'
export const FIELD_MODES: readonly FieldMode[] = ['hidden', 'readonly', 'editable']

export interface FieldOption {
  value: string
  label: string
  label_en?: string
}

export type JsonLogic = Record<string, unknown> | boolean

/** One field of a form schema (the designer edits these; the renderer draws them). */
export interface FieldSchema {
  key: string
  type: string
  label: string
  label_en?: string
  placeholder?: string
  help?: string
  required?: boolean
  default?: unknown
  validation?: Record<string, unknown>
  options?: FieldOption[]
  formula?: string
  visible_when?: JsonLogic | null
  permissions?: Record<string, FieldMode>
  indexed?: boolean
  internal?: boolean
  settings?: Record<string, unknown>
  children?: FieldSchema[]
  ui?: Record<string, unknown>
  /** Set by the server in a user's renderer schema: the field is read-only for this user. */
  readonly?: boolean
}

export interface FormSchema {
  fields: FieldSchema[]
  list_columns?: string[]
  customer_fields?: Record<string, string>
  ui?: Record<string, unknown>
}

export interface SettingMeta {
  name: string
  kind: 'integer' | 'decimal' | 'string' | 'text' | 'boolean' | 'choice' | 'field' | 'form' | 'date'
  label: string
  default: unknown
  choices?: string[]
}

export interface FieldTypeMeta {
  type: string
  label: string
  icon: string
  group: string
  input: boolean
  derived: boolean
  layout: boolean
  has_options: boolean
  has_children: boolean
  pii: boolean
  indexable: boolean
  filter_ops: string[]
  in_formulas: boolean
  in_subtable: boolean
  value: string
  validation: SettingMeta[]
  settings: SettingMeta[]
}

export interface FieldTypeCatalog {
  groups: Record<string, string>
  types: FieldTypeMeta[]
}

export interface FunctionMeta {
  name: string
  min_args: number
  max_args: number | null
  description: string
  example: string
}

export interface UserRef {
  id: number
  username: string
  full_name: string
}

export interface FormInfo {
  id: number
  code: string
  name: string
  description: string
  kind: 'profile' | 'application' | 'generic'
  is_active: boolean
  version: number | null
  published_at: string | null
  has_draft: boolean
  updated_at: string
}

export interface FormDetail extends FormInfo {
  schema: FormSchema | null
  modes: Record<string, FieldMode>
}

export interface Problem {
  key: string
  path: string
  code: string
  message: string
  position: number | null
}

export interface Draft {
  number: number
  schema: FormSchema
  updated_at: string
  problems: Problem[]
}

export interface VersionInfo {
  number: number
  published_at: string | null
  published_by: UserRef | null
  field_count: number
}

export interface VersionDetail extends VersionInfo {
  schema: FormSchema
}

export interface FormulaCheck {
  ok: boolean
  references: string[]
  error: { code: string; message: string; position: number | null } | null
}

export interface Evaluation {
  version: number
  values: Record<string, unknown>
  visible: Record<string, boolean>
  errors: Record<string, string>
}

export interface RecordOut {
  id: number
  form: string
  version: number
  serial_no: string
  data: Record<string, unknown>
  display: Record<string, string>
  modes: Record<string, FieldMode>
  owner: UserRef | null
  department_id: number | null
  created_via: string
  created_at: string
  updated_at: string
}

export interface Column {
  key: string
  label: string
  type: string
  sortable: boolean
  filter_ops: string[]
}

export interface RecordRow {
  id: number
  serial_no: string
  version: number
  owner: UserRef | null
  created_via: string
  created_at: string
  updated_at: string
  values: Record<string, unknown>
  display: Record<string, string>
}

export interface RecordPage {
  columns: Column[]
  items: RecordRow[]
  count: number
  page: number
  page_size: number
}

export interface HistoryEntry {
  at: string
  actor_username: string
  action: string
  changes: Record<string, unknown>
}

export interface LinkIn {
  expires_at?: string | null
  max_submissions?: number | null
  sms_verification?: boolean
}

export interface LinkOut {
  id: number
  token: string
  url: string
  qr_png: string | null
  form: string
  form_name: string
  created_by: UserRef | null
  created_at: string
  expires_at: string | null
  max_submissions: number | null
  submissions: number
  sms_verification: boolean
  active: boolean
  status: 'active' | 'inactive' | 'expired' | 'full' | string
}

export interface UploadOut {
  id: string
  name: string
  content_type: string
  size: number
  kind: string
  url: string | null
}

export interface PublicForm {
  form: { name: string; description: string }
  version: number
  schema: FormSchema
  sms_verification: boolean
  expires_at: string | null
  shared_by: string
}

export interface SmsOut {
  sent: boolean
  phone: string
  expires_in: number
  resend_after: number
}

export interface PublicSubmitIn {
  data: Record<string, unknown>
  sms_code?: string | null
  website: string
}

/**
 * The borrower's status page. Unverified (no grant cookie): only `form_name`, `verified: false`,
 * `verification` and `phone_hint`. After POST …/verify (an HttpOnly cookie for 30 minutes):
 * also the serial number, status and the flow's progress.
 */
export interface PublicStatus {
  form_name: string
  verified?: boolean
  /** "sms": a code goes to `phone_hint`; "unavailable": no phone on the record. */
  verification?: 'sms' | 'unavailable'
  phone_hint?: string
  serial_no?: string
  submitted_at?: string
  status?: string
  status_label?: string
  grant_expires_in?: number
}

const enc = encodeURIComponent

/** multipart/form-data POST (the JSON client cannot send files); same errors as the client. */
async function uploadFile(path: string, file: File | Blob, name: string, csrf: boolean): Promise<UploadOut> {
  const body = new FormData()
  body.append('file', file, name)
  const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Language': currentLocale() }
  if (csrf) headers['X-CSRFToken'] = readCookie(CSRF_COOKIE) ?? (await ensureCsrfToken())
  let res: Response
  try {
    res = await fetch(buildUrl(path), { method: 'POST', body, headers, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'network_error', 'Network error')
  }
  let parsed: unknown
  try {
    parsed = await res.json()
  } catch {
    parsed = undefined
  }
  if (res.ok) return parsed as UploadOut
  const b = (parsed ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> }
  throw new ApiError(res.status, b.code ?? `http_${res.status}`, b.message ?? `HTTP ${res.status}`, b.details ?? {})
}

export const formsApi = {
  fieldTypes: () => http.get<FieldTypeCatalog>('/forms/field-types'),
  functions: () => http.get<FunctionMeta[]>('/forms/functions'),
  checkFormula: (text: string, fields: string[], subtables: Record<string, string[]>) =>
    http.post<FormulaCheck>('/forms/formula/check', { text, fields, subtables }, { quiet: true }),
  list: () => http.get<FormInfo[]>('/forms'),
  create: (body: { code: string; name: string; kind?: string; description?: string }) =>
    http.post<FormInfo>('/forms', body, { quiet: [422] }),
  get: (code: string, options: { quiet?: boolean | number[] } = {}) =>
    http.get<FormDetail>(`/forms/${enc(code)}`, undefined, options),
  patch: (code: string, body: Partial<Pick<FormInfo, 'name' | 'kind' | 'description' | 'is_active'>>) =>
    http.patch<FormInfo>(`/forms/${enc(code)}`, body),
  draft: (code: string) => http.get<Draft>(`/forms/${enc(code)}/draft`, undefined, { quiet: [404] }),
  saveDraft: (code: string, schema: FormSchema) => http.put<Draft>(`/forms/${enc(code)}/draft`, { schema }),
  validate: (code: string, schema?: FormSchema) =>
    http.post<{ ok: boolean; problems: Problem[] }>(`/forms/${enc(code)}/draft/validate`, { schema }),
  publish: (code: string) => http.post<VersionInfo>(`/forms/${enc(code)}/publish`, undefined, { quiet: [422] }),
  versions: (code: string) => http.get<VersionInfo[]>(`/forms/${enc(code)}/versions`),
  version: (code: string, number: number) => http.get<VersionDetail>(`/forms/${enc(code)}/versions/${number}`),
  evaluate: (code: string, data: Record<string, unknown>, signal?: AbortSignal) =>
    http.post<Evaluation>(`/forms/${enc(code)}/evaluate`, { data }, { quiet: true, signal }),
  records: (code: string, query: Query) => http.get<RecordPage>(`/forms/${enc(code)}/records`, query),
  createRecord: (code: string, data: Record<string, unknown>) =>
    http.post<RecordOut>(`/forms/${enc(code)}/records`, { data }, { quiet: [422] }),
  record: (code: string, id: number) => http.get<RecordOut>(`/forms/${enc(code)}/records/${id}`),
  updateRecord: (code: string, id: number, data: Record<string, unknown>) =>
    http.patch<RecordOut>(`/forms/${enc(code)}/records/${id}`, { data }, { quiet: [422] }),
  history: (code: string, id: number) => http.get<HistoryEntry[]>(`/forms/${enc(code)}/records/${id}/history`),
  reveal: (code: string, id: number, field: string) =>
    http.post<{ field: string; value: string }>(`/forms/${enc(code)}/records/${id}/reveal`, { field }),
  exportUrl: (code: string, query: Query = {}) => buildUrl(`/forms/${enc(code)}/records/export`, query),
  links: (code: string) => http.get<LinkOut[]>(`/forms/${enc(code)}/links`),
  createLink: (code: string, body: LinkIn) => http.post<LinkOut>(`/forms/${enc(code)}/links`, body, { quiet: [422] }),
  deactivateLink: (id: number) => http.post<LinkOut>(`/forms/links/${id}/deactivate`),
  qrUrl: (id: number) => buildUrl(`/forms/links/${id}/qr.png`),
  upload: (file: File | Blob, name: string) => uploadFile('/forms/uploads', file, name, true),
  uploadUrl: (id: string) => buildUrl(`/forms/uploads/${enc(id)}`),
}

export const publicFormsApi = {
  get: (token: string) => http.get<PublicForm>(`/public/forms/${enc(token)}`, undefined, { quiet: true }),
  evaluate: (token: string, data: Record<string, unknown>, signal?: AbortSignal) =>
    http.post<Evaluation>(`/public/forms/${enc(token)}/evaluate`, { data }, { quiet: true, signal }),
  sms: (token: string, phone: string) => http.post<SmsOut>(`/public/forms/${enc(token)}/sms`, { phone }, { quiet: [422] }),
  upload: (token: string, file: File | Blob, name: string) =>
    uploadFile(`/public/forms/${enc(token)}/uploads`, file, name, true),
  submit: (token: string, body: PublicSubmitIn) =>
    http.post<{ status_token: string; serial_no: string }>(`/public/forms/${enc(token)}/submit`, body, {
      quiet: [422],
    }),
  status: (token: string) => http.get<PublicStatus>(`/public/status/${enc(token)}`, undefined, { quiet: true }),
  statusSms: (token: string) => http.post<SmsOut>(`/public/status/${enc(token)}/sms`, {}, { quiet: true }),
  statusVerify: (token: string, code: string) =>
    http.post<PublicStatus>(`/public/status/${enc(token)}/verify`, { code }, { quiet: true }),
}

/** Customers for the relation picker (GET /customers?q=…; the customer center owns the API). */
export interface CustomerHit {
  id: number
  name: string
  phone: string
  id_number: string
}
export const customerSearch = (q: string, page: number) =>
  http.get<{ items: CustomerHit[]; count: number; page: number; page_size: number }>('/customers', {
    q: q || undefined,
    page,
    page_size: 20,
  })

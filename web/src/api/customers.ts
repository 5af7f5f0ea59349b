/**
 * Customer center API (/api/v1/customers). Shapes follow src/loandesk/customers/schemas.py.
 *
 * JSON calls go through the shared client. Multipart uploads and file downloads (documents,
 * Excel export) need the raw Response, so `rawRequest` below does the same things the client
 * does — cookie auth, CSRF header (with one refresh on a stale token), Accept-Language — and
 * turns error answers into the same ApiError.
 */
import { showFailToast } from 'vant'
import { currentLocale, t } from '@/i18n'
import { ApiError, buildUrl, ensureCsrfToken, http, type Query, type RequestOptions } from './client'
import type { Page } from './types'

// ---- shapes ---------------------------------------------------------------------------------

export type CustomerKind = 'individual' | 'enterprise'
export type PiiField = 'id_number' | 'phone' | 'bank_card'
export type FollowUpKind = 'call' | 'visit' | 'wechat' | 'note'
export const FOLLOW_UP_KINDS: readonly FollowUpKind[] = ['call', 'visit', 'wechat', 'note']
export type DocumentKind = 'id_front' | 'id_back' | 'income_proof' | 'bank_statement' | 'contract' | 'photo' | 'other'
export const DOCUMENT_KINDS: readonly DocumentKind[] = [
  'id_front',
  'id_back',
  'income_proof',
  'bank_statement',
  'contract',
  'photo',
  'other',
]
export const CREDIT_LEVELS = ['A', 'B', 'C', 'watch', 'blacklist'] as const

export const CUSTOMER_PERMS = {
  view: 'customers.view',
  create: 'customers.create',
  update: 'customers.update',
  delete: 'customers.delete',
  viewPii: 'customers.view_pii',
  merge: 'customers.merge',
  import: 'customers.import',
  export: 'customers.export',
  manageTags: 'customers.manage_tags',
} as const

export interface UserRef {
  id: number
  username: string
  full_name: string
}
export interface TagRef {
  id: number
  name: string
  color: string
}
export interface Tag extends TagRef {
  customer_count: number
}
export interface CustomerRef {
  id: number
  name: string
}

export interface CustomerListItem {
  id: number
  kind: CustomerKind
  name: string
  status: string
  /** Masked unless the caller holds customers.view_pii (then pii_masked is false). */
  phone: string
  id_number: string
  uscc: string
  gender: string
  age: number | null
  credit_level: string
  source_channel: string
  owner: UserRef
  department: { id: number; name: string } | null
  tags: TagRef[]
  last_follow_up_at: string | null
  next_follow_up_at: string | null
  created_at: string
  updated_at: string
  pii_masked: boolean
}

/**
 * A customer list page. Past 1,000 matches the server stops counting (count_capped, count =
 * 1,000); a broad text search (e.g. one common surname) is not counted at all (count null).
 */
export interface CustomerPage extends Omit<Page<CustomerListItem>, 'count'> {
  count: number | null
  count_capped?: boolean
}

export interface BankCard {
  id: number
  number: string
  bank_name: string
  created_at: string
}

export interface TabCounts {
  follow_ups: number
  documents: number
  applications: number
  loans: number
  repayments: number
  collections: number
}

export interface Customer extends CustomerListItem {
  birth_date: string | null
  legal_representative: string
  industry: string
  province_code: string
  province_name: string
  city_code: string
  city_name: string
  district_code: string
  district_name: string
  address: string
  employer: string
  /** Yuan, decimal string. */
  monthly_income: string | null
  marital_status: string
  education: string
  remark: string
  custom: Record<string, unknown>
  bank_cards: BankCard[]
  merged_into: CustomerRef | null
  created_by: UserRef | null
  counts: TabCounts
}

export interface CustomerProfileBody {
  id_number?: string | null
  phone?: string | null
  uscc?: string | null
  legal_representative?: string | null
  industry?: string | null
  province_code?: string | null
  province_name?: string | null
  city_code?: string | null
  city_name?: string | null
  district_code?: string | null
  district_name?: string | null
  address?: string | null
  employer?: string | null
  /** Yuan as a decimal string. */
  monthly_income?: string | null
  marital_status?: string | null
  education?: string | null
  credit_level?: string | null
  source_channel?: string | null
  remark?: string | null
  owner_id?: number | null
  /** 扩展信息 (the 客户档案 form's fields); on PATCH only the changed keys, null clears one. */
  custom?: Record<string, unknown>
}

export interface CustomerCreateBody extends CustomerProfileBody {
  kind: CustomerKind
  name: string
  tag_ids?: number[]
  on_duplicate?: 'error' | 'link'
}

export interface CustomerPatchBody extends CustomerProfileBody {
  name?: string | null
  tag_ids?: number[] | null
}

export interface CustomerListQuery {
  q?: string
  tag?: number | null
  owner_id?: number | null
  credit_level?: string | null
  kind?: CustomerKind | null
  mine?: boolean | null
  department_id?: number | null
  status?: 'active' | 'archived' | 'merged' | 'all'
}

export interface Photo {
  id: number
  original_name: string
  content_type: string
  url: string
}

export interface FollowUp {
  id: number
  customer_id: number
  author: UserRef
  kind: FollowUpKind
  content: string
  photos: Photo[]
  latitude: string | null
  longitude: string | null
  location_address: string
  next_follow_up_at: string | null
  closed_at: string | null
  created_at: string
}

export interface FollowUpBody {
  kind: FollowUpKind
  content: string
  photo_ids: number[]
  /** Decimal strings with at most 6 decimals. */
  latitude?: string | null
  longitude?: string | null
  location_address?: string
  /** ISO-8601 with offset. */
  next_follow_up_at?: string | null
}

export interface TodoItem {
  follow_up_id: number
  customer: CustomerRef
  author: UserRef
  kind: FollowUpKind
  content: string
  next_follow_up_at: string
  overdue: boolean
}

/** `count` is exact up to 99; with `count_capped` there are more (the card shows "99+"). */
export interface TodoPage extends Page<TodoItem> {
  count_capped: boolean
}

export interface CustomerDocument {
  id: number
  customer_id: number
  kind: DocumentKind
  original_name: string
  content_type: string
  size: number
  sha256: string
  uploaded_by: UserRef | null
  created_at: string
  /** Authorised download path (/api/v1/customers/<id>/documents/<id>/file): fetch it, never link it. */
  url: string
}

export interface TimelineEvent {
  id: number
  at: string
  kind: string
  actor: UserRef | null
  summary: string
  ref_type: string
  ref_id: string
}

export interface Choice {
  value: string
  label: string
}
/** Choice lists with labels in the caller's language: kind, credit_level, marital_status, … */
export type CustomerMeta = Record<string, Choice[]>

export interface ImportColumn {
  header: string
  letter: string
  suggested_field: string | null
  samples: string[]
}
export interface ImportField {
  key: string
  label: string
  required: boolean
}
export interface ImportRow {
  row: number
  status: 'error' | 'duplicate'
  name: string
  /** field → "字段: 问题" */
  errors: Record<string, string>
  duplicate_of: Record<string, number> | null
}
export interface ImportReport {
  total_rows: number
  create_rows: number
  error_rows: number
  duplicate_rows: number
  new_tags: string[]
  rows: ImportRow[]
  rows_truncated: boolean
  committed: boolean
  created_count: number
}
export interface CustomerImport {
  id: number
  status: string
  original_name: string
  size: number
  sheet_name: string
  header_row: number
  columns: ImportColumn[]
  suggested_mapping: Record<string, string>
  mapping: Record<string, string>
  skip_bad_rows: boolean
  fields: ImportField[]
  report: ImportReport | null
  created_count: number
  created_at: string
  committed_at: string | null
  /** The background commit: rows written so far of the rows to write. */
  progress: { rows_done: number; rows_total: number }
  /** Why the last commit failed (status "failed"), in the caller's language. */
  failure: { code: string; message: string } | null
}

/** Details of a 409 customers.duplicate answer. */
export interface DuplicateDetails {
  customer_id: number
  field: string
  accessible: boolean
  owner_name: string
}

export function duplicateOf(e: unknown): DuplicateDetails | null {
  if (!(e instanceof ApiError) || e.status !== 409 || e.code !== 'customers.duplicate') return null
  const d = e.details
  return typeof d.customer_id === 'number'
    ? {
        customer_id: d.customer_id,
        field: typeof d.field === 'string' ? d.field : '',
        accessible: d.accessible === true,
        owner_name: typeof d.owner_name === 'string' ? d.owner_name : '',
      }
    : null
}

// ---- query building -------------------------------------------------------------------------

/** The list/export query: empty values are left out; `mine` is sent only when true. */
export function customerQuery(filters: CustomerListQuery, extra: Query = {}): Query {
  const q: Query = {}
  const text = filters.q?.trim()
  if (text) q.q = text
  if (filters.tag) q.tag = filters.tag
  if (filters.owner_id) q.owner_id = filters.owner_id
  if (filters.credit_level) q.credit_level = filters.credit_level
  if (filters.kind) q.kind = filters.kind
  if (filters.mine) q.mine = true
  if (filters.department_id) q.department_id = filters.department_id
  if (filters.status && filters.status !== 'active') q.status = filters.status
  return { ...q, ...extra }
}

// ---- raw requests (multipart, blobs) --------------------------------------------------------

export interface RawOptions {
  query?: Query
  body?: FormData
  quiet?: boolean
  signal?: AbortSignal
}

function apiPath(path: string): string {
  // Document URLs come from the server with the /api/v1 prefix already.
  return path.startsWith('/api/') ? path : buildUrl(path)
}

function withQuery(url: string, query?: Query): string {
  if (!query) return url
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.append(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${url}${url.includes('?') ? '&' : '?'}${qs}` : url
}

async function errorFrom(res: Response): Promise<ApiError> {
  let body: unknown
  try {
    body = (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : undefined
  } catch {
    body = undefined
  }
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>
    if (typeof b.code === 'string' && typeof b.message === 'string') {
      const details = b.details && typeof b.details === 'object' ? (b.details as Record<string, unknown>) : {}
      return new ApiError(res.status, b.code, b.message, details)
    }
  }
  return new ApiError(res.status, `http_${res.status}`, t('common.serverError', { status: res.status }))
}

/** fetch with the API's auth, CSRF and language; non-2xx answers throw ApiError (toast unless quiet). */
export async function rawRequest(method: 'GET' | 'POST', path: string, options: RawOptions = {}): Promise<Response> {
  const send = async (csrfRetry: boolean): Promise<Response> => {
    const headers: Record<string, string> = { 'Accept-Language': currentLocale() }
    if (method !== 'GET') headers['X-CSRFToken'] = await ensureCsrfToken(csrfRetry)
    let res: Response
    try {
      res = await fetch(withQuery(apiPath(path), options.query), {
        method,
        credentials: 'same-origin',
        headers,
        body: options.body,
        signal: options.signal,
      })
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e
      throw new ApiError(0, 'network_error', t('common.networkError'))
    }
    if (res.ok) return res
    const error = await errorFrom(res)
    if (method !== 'GET' && !csrfRetry && res.status === 403 && error.code.toLowerCase().includes('csrf')) {
      return send(true)
    }
    throw error
  }
  try {
    return await send(false)
  } catch (e) {
    if (e instanceof ApiError && !options.quiet) showFailToast({ message: e.message, wordBreak: 'break-word' })
    throw e
  }
}

async function postForm<T>(path: string, form: FormData, quiet = false): Promise<T> {
  const res = await rawRequest('POST', path, { body: form, quiet })
  return (await res.json()) as T
}

/** The file name from Content-Disposition (RFC 5987 filename* first). */
export function filenameFrom(res: Response, fallback: string): string {
  const cd = res.headers.get('content-disposition') ?? ''
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(cd)
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(cd)
  return plain?.[1]?.trim() || fallback
}

export interface DownloadedFile {
  blob: Blob
  filename: string
}

/** Save a blob as a file through a temporary object URL. */
export function saveBlob(file: DownloadedFile): void {
  const url = URL.createObjectURL(file.blob)
  const a = document.createElement('a')
  a.href = url
  a.download = file.filename
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}

type Options = Omit<RequestOptions, 'body' | 'query'>

// ---- endpoints ------------------------------------------------------------------------------

export const customersApi = {
  list: (filters: CustomerListQuery, page: number, pageSize = 20, options?: Options) =>
    http.get<CustomerPage>('/customers', customerQuery(filters, { page, page_size: pageSize }), options),
  get: (id: number, options?: Options) => http.get<Customer>(`/customers/${id}`, undefined, options),
  create: (body: CustomerCreateBody, options?: Options) => http.post<Customer>('/customers', body, options),
  update: (id: number, body: CustomerPatchBody, options?: Options) =>
    http.patch<Customer>(`/customers/${id}`, body, options),
  archive: (id: number) => http.delete(`/customers/${id}`),
  reveal: (id: number, field: PiiField, bankCardId?: number) =>
    http.post<{ field: string; value: string }>(`/customers/${id}/reveal`, {
      field,
      ...(bankCardId ? { bank_card_id: bankCardId } : {}),
    }),
  merge: (survivorId: number, duplicateId: number) =>
    http.post<Customer>(`/customers/${survivorId}/merge`, { duplicate_id: duplicateId }),

  meta: (options?: Options) => http.get<CustomerMeta>('/customers/meta', undefined, options),
  tags: (options?: Options) => http.get<Tag[]>('/customers/tags', undefined, options),

  timeline: (id: number, page: number, pageSize = 20) =>
    http.get<Page<TimelineEvent>>(`/customers/${id}/timeline`, { page, page_size: pageSize }),
  followUps: (id: number, page: number, pageSize = 20) =>
    http.get<Page<FollowUp>>(`/customers/${id}/follow-ups`, { page, page_size: pageSize }),
  createFollowUp: (id: number, body: FollowUpBody, options?: Options) =>
    http.post<FollowUp>(`/customers/${id}/follow-ups`, body, options),
  todo: (page = 1, pageSize = 5, withinDays = 7, options?: Options) =>
    http.get<TodoPage>('/customers/follow-ups/todo', { within_days: withinDays, page, page_size: pageSize }, options),

  documents: (id: number, page = 1, pageSize = 100, kind?: DocumentKind) =>
    http.get<Page<CustomerDocument>>(`/customers/${id}/documents`, { page, page_size: pageSize, kind }),
  /** multipart: file + kind. The server checks type and size by content. */
  uploadDocument: (id: number, file: Blob, kind: DocumentKind, filename?: string, quiet = false) => {
    const form = new FormData()
    form.append('kind', kind)
    const name = filename ?? (file instanceof File ? file.name : 'upload')
    form.append('file', file, name)
    return postForm<CustomerDocument>(`/customers/${id}/documents`, form, quiet)
  },
  deleteDocument: (id: number, documentId: number) => http.delete(`/customers/${id}/documents/${documentId}`),
  /** The file's bytes through the authorised endpoint. */
  fetchFile: async (url: string, options: { quiet?: boolean; signal?: AbortSignal } = {}): Promise<DownloadedFile> => {
    const res = await rawRequest('GET', url, options)
    return { blob: await res.blob(), filename: filenameFrom(res, 'file') }
  },

  /** The current list as .xlsx (same filters as the list). */
  exportXlsx: async (filters: CustomerListQuery): Promise<DownloadedFile> => {
    const res = await rawRequest('GET', '/customers/export', { query: customerQuery(filters) })
    return { blob: await res.blob(), filename: filenameFrom(res, 'customers.xlsx') }
  },

  uploadImport: (file: File, quiet = false) => {
    const form = new FormData()
    form.append('file', file, file.name)
    return postForm<CustomerImport>('/customers/imports', form, quiet)
  },
  getImport: (id: number) => http.get<CustomerImport>(`/customers/imports/${id}`),
  dryRun: (id: number, mapping: Record<string, string | null>, skipBadRows: boolean, options?: Options) =>
    http.post<ImportReport>(`/customers/imports/${id}/dry-run`, { mapping, skip_bad_rows: skipBadRows }, options),
  /** Starts the commit in the background (202); poll getImport for progress. */
  commitImport: (id: number, options?: Options) =>
    http.post<CustomerImport>(`/customers/imports/${id}/commit`, undefined, options),
}

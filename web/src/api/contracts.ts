import { ApiError, buildUrl, ensureCsrfToken, http, type RequestOptions } from './client'
import { currentLocale } from '@/i18n'

/** Permission code of the contract-template pages (superusers pass). */
export const MANAGE_TEMPLATES_PERM = 'contracts.manage_templates'

export interface UserRef {
  id: number
  name: string
}

export interface ContractTemplateItem {
  code: string
  name: string
  is_active: boolean
  /** Grows with every saved change; a generated contract records the version it used. */
  version: number
  updated_at: string
  updated_by: UserRef | null
}

export interface ContractTemplate extends ContractTemplateItem {
  body: string
}

export interface TemplateCreateBody {
  code: string
  name: string
  body: string
  is_active?: boolean
}

export interface TemplatePatchBody {
  name?: string
  body?: string
  is_active?: boolean
  /** The version the editor loaded: saving over a newer version is a 409. */
  version?: number
}

export type PlaceholderGroup = 'contract' | 'block' | 'form'

export interface Placeholder {
  name: string
  /** What goes into the text, e.g. "{{amount}}". */
  token: string
  /** The description in the request's language. */
  label: string
  zh: string
  en: string
  /** Blocks (schedule table, signatures) stand alone as a paragraph. */
  block: boolean
  group: PlaceholderGroup
}

/** Where a refused placeholder sits in the body (details.placeholder of a 422). */
export interface PlaceholderProblem {
  name: string
  line: number
  offset: number
  length: number
}

export interface PreviewValues {
  customer_name?: string
  customer_id_number?: string
  product?: string
  amount?: string
  term?: number | string
  annual_rate?: string
  form?: Record<string, string>
}

export interface GeneratedContract {
  id: number
  contract_no: string
  template: string
  template_name: string
  template_version: number
  record_id: number | null
  customer_id: number
  document_id: number
  file_name: string
  size: number
  sha256: string
  amount: string
  instance_id: number | null
  step_id: string | null
  /** The customer-document download endpoint (authorised, audited). */
  download_url: string
  created_at: string
}

/** The placeholder a 422 points at, if any. */
export function placeholderProblem(error: unknown): PlaceholderProblem | null {
  if (!(error instanceof ApiError)) return null
  const p = error.details.placeholder as Partial<PlaceholderProblem> | undefined
  if (!p || typeof p.offset !== 'number') return null
  return {
    name: typeof p.name === 'string' ? p.name : '',
    line: typeof p.line === 'number' ? p.line : 1,
    offset: p.offset,
    length: typeof p.length === 'number' ? p.length : 0,
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const b = (await res.json()) as { code?: unknown; message?: unknown; details?: unknown }
    if (typeof b.code === 'string' && typeof b.message === 'string') {
      const details = b.details && typeof b.details === 'object' ? (b.details as Record<string, unknown>) : {}
      return new ApiError(res.status, b.code, b.message, details)
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}`)
}

/** POST /contracts/templates/{code}/preview → the PDF as a Blob (errors as ApiError). */
async function preview(code: string, body: { body?: string; values?: PreviewValues }): Promise<Blob> {
  const send = async (csrfRetry: boolean): Promise<Blob> => {
    const headers: Record<string, string> = {
      Accept: 'application/pdf, application/json',
      'Accept-Language': currentLocale(),
      'Content-Type': 'application/json',
      'X-CSRFToken': await ensureCsrfToken(csrfRetry),
    }
    let res: Response
    try {
      res = await fetch(buildUrl(`/contracts/templates/${encodeURIComponent(code)}/preview`), {
        method: 'POST',
        credentials: 'same-origin',
        headers,
        body: JSON.stringify(body),
      })
    } catch {
      throw new ApiError(0, 'network_error', 'Network error')
    }
    if (res.ok) return res.blob()
    const error = await errorOf(res)
    if (!csrfRetry && res.status === 403 && error.code.toLowerCase().includes('csrf')) return send(true)
    throw error
  }
  return send(false)
}

export const contractsApi = {
  templates: (options?: Omit<RequestOptions, 'query' | 'body'>) =>
    http.get<ContractTemplateItem[]>('/contracts/templates', undefined, options),
  template: (code: string, options?: Omit<RequestOptions, 'query' | 'body'>) =>
    http.get<ContractTemplate>(`/contracts/templates/${encodeURIComponent(code)}`, undefined, options),
  createTemplate: (body: TemplateCreateBody, options?: Omit<RequestOptions, 'body'>) =>
    http.post<ContractTemplate>('/contracts/templates', body, options),
  updateTemplate: (code: string, body: TemplatePatchBody, options?: Omit<RequestOptions, 'body'>) =>
    http.patch<ContractTemplate>(`/contracts/templates/${encodeURIComponent(code)}`, body, options),
  placeholders: () => http.get<Placeholder[]>('/contracts/templates/placeholders'),
  preview,
  generated: (recordId: number) => http.get<GeneratedContract[]>('/contracts/generated', { record_id: recordId }),
}

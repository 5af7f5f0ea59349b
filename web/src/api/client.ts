/**
 * Thin fetch wrapper for the LoanDesk JSON API (/api/v1).
 *
 * - Session cookie auth (credentials: same-origin) + Django CSRF: unsafe methods send
 *   X-CSRFToken from the `csrftoken` cookie; when the cookie is missing, GET /auth/csrf first.
 * - Accept-Language follows the current UI locale on every request.
 * - Every non-2xx answer becomes an ApiError {status, code, message, details, fields}.
 * - Hooks: onUnauthorized for 401 auth.not_authenticated / auth.session_expired,
 *   onError for every other error (the app shows a Vant fail toast). `quiet` suppresses both.
 */

export type Query = Record<string, string | number | boolean | null | undefined>
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export const SESSION_ERROR_CODES: ReadonlySet<string> = new Set([
  'auth.not_authenticated',
  'auth.session_expired',
])
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
export const CSRF_COOKIE = 'csrftoken'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: Record<string, unknown>
  /** Field-level validation messages from details.fields (422 validation_error). */
  readonly fields: Record<string, string>

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.fields = extractFields(details)
  }

  get isValidation(): boolean {
    return this.code === 'validation_error' || this.status === 422
  }

  get isSessionError(): boolean {
    return this.status === 401 && SESSION_ERROR_CODES.has(this.code)
  }
}

function extractFields(details: Record<string, unknown>): Record<string, string> {
  const raw = details.fields
  const out: Record<string, string> = {}
  if (!raw || typeof raw !== 'object') return out
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v
    else if (Array.isArray(v)) out[k] = v.filter((x) => typeof x === 'string').join('; ')
  }
  return out
}

export interface ApiConfig {
  baseUrl: string
  getLocale: () => string
  /** Called for 401 session errors (not for wrong credentials on login). */
  onUnauthorized?: (error: ApiError) => void
  /** Called for every other error unless the request is quiet. */
  onError?: (error: ApiError) => void
  /** Message for errors without a JSON body (status 0 = network failure). */
  fallbackMessage: (status: number) => string
}

const config: ApiConfig = {
  baseUrl: '/api/v1',
  getLocale: () => 'zh-CN',
  fallbackMessage: (status) => (status === 0 ? 'Network error' : `HTTP ${status}`),
}

export function configureApi(partial: Partial<ApiConfig>): void {
  Object.assign(config, partial)
}

export interface RequestOptions {
  query?: Query
  body?: unknown
  /** true: never call the hooks; or a list of HTTP statuses for which not to call them. */
  quiet?: boolean | number[]
  signal?: AbortSignal
}

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie ? document.cookie.split(';') : []) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return null
}

// Fallback for deployments with an HttpOnly CSRF cookie: the token from GET /auth/csrf.
let fetchedCsrfToken: string | null = null
let csrfInFlight: Promise<string> | null = null

/** Reset module state (tests). */
export function resetCsrfState(): void {
  fetchedCsrfToken = null
  csrfInFlight = null
}

export function buildUrl(path: string, query?: Query): string {
  const url = config.baseUrl + path
  if (!query) return url
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.append(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${url}?${qs}` : url
}

function baseHeaders(): Record<string, string> {
  return { Accept: 'application/json', 'Accept-Language': config.getLocale() }
}

async function parseBody(res: Response): Promise<unknown> {
  if (res.status === 204 || res.status === 205) return undefined
  const text = await res.text()
  if (!text) return undefined
  const type = res.headers.get('content-type') ?? ''
  if (type.includes('json')) {
    try {
      return JSON.parse(text)
    } catch {
      return undefined
    }
  }
  return undefined
}

function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>
    if (typeof b.code === 'string' && typeof b.message === 'string') {
      const details = b.details && typeof b.details === 'object' ? (b.details as Record<string, unknown>) : {}
      return new ApiError(status, b.code, b.message, details)
    }
  }
  return new ApiError(status, `http_${status}`, config.fallbackMessage(status))
}

/** The CSRF token to send: the cookie when readable, else the one GET /auth/csrf returned. */
export async function ensureCsrfToken(force = false): Promise<string> {
  if (!force) {
    const cookie = readCookie(CSRF_COOKIE)
    if (cookie) return cookie
    if (fetchedCsrfToken) return fetchedCsrfToken
  }
  if (!csrfInFlight) {
    csrfInFlight = (async () => {
      let res: Response
      try {
        res = await fetch(buildUrl('/auth/csrf'), {
          method: 'GET',
          credentials: 'same-origin',
          headers: baseHeaders(),
        })
      } catch {
        throw new ApiError(0, 'network_error', config.fallbackMessage(0))
      }
      const body = await parseBody(res)
      if (!res.ok) throw toApiError(res.status, body)
      const token =
        body && typeof body === 'object' && typeof (body as { csrf_token?: unknown }).csrf_token === 'string'
          ? (body as { csrf_token: string }).csrf_token
          : null
      fetchedCsrfToken = readCookie(CSRF_COOKIE) ?? token
      if (!fetchedCsrfToken) throw new ApiError(res.status, 'csrf_unavailable', config.fallbackMessage(res.status))
      return fetchedCsrfToken
    })().finally(() => {
      csrfInFlight = null
    })
  }
  return csrfInFlight
}

function isQuiet(quiet: RequestOptions['quiet'], status: number): boolean {
  if (quiet === true) return true
  return Array.isArray(quiet) && quiet.includes(status)
}

function report(error: ApiError, quiet: RequestOptions['quiet']): void {
  if (isQuiet(quiet, error.status)) return
  if (error.isSessionError) config.onUnauthorized?.(error)
  else config.onError?.(error)
}

export async function request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
  const unsafe = UNSAFE_METHODS.has(method)
  const send = async (csrfRetry: boolean): Promise<T> => {
    const headers = baseHeaders()
    const init: RequestInit = { method, credentials: 'same-origin', headers, signal: options.signal }
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(options.body)
    }
    if (unsafe) headers['X-CSRFToken'] = await ensureCsrfToken(csrfRetry)

    let res: Response
    try {
      res = await fetch(buildUrl(path, options.query), init)
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e
      throw new ApiError(0, 'network_error', config.fallbackMessage(0))
    }
    const body = await parseBody(res)
    if (res.ok) return body as T
    const error = toApiError(res.status, body)
    // Django rejects a stale token (e.g. rotated at login) with 403: refresh once and retry.
    if (unsafe && !csrfRetry && res.status === 403 && error.code.toLowerCase().includes('csrf')) {
      return send(true)
    }
    throw error
  }
  try {
    return await send(false)
  } catch (e) {
    if (e instanceof ApiError) report(e, options.quiet)
    throw e
  }
}

export const http = {
  get: <T>(path: string, query?: Query, options: Omit<RequestOptions, 'query' | 'body'> = {}) =>
    request<T>('GET', path, { ...options, query }),
  post: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('PATCH', path, { ...options, body }),
  delete: <T = void>(path: string, options: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('DELETE', path, options),
}

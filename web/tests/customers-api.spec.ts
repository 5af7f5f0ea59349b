import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureApi, resetCsrfState } from '@/api/client'
import { customerQuery, customersApi, duplicateOf, filenameFrom } from '@/api/customers'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, mockFetch, setCookie } from './helpers'

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  setLocale('zh-CN', { persist: false })
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => clearCookies())

describe('customer list query', () => {
  it('leaves out empty filters and sends mine only when true', () => {
    expect(customerQuery({})).toEqual({})
    expect(customerQuery({ q: '  zw ', mine: false, tag: null, kind: null, credit_level: '' })).toEqual({ q: 'zw' })
    expect(customerQuery({ mine: true, tag: 3, credit_level: 'A', kind: 'enterprise', department_id: 7 })).toEqual({
      mine: true,
      tag: 3,
      credit_level: 'A',
      kind: 'enterprise',
      department_id: 7,
    })
    // "active" is the server's default: not sent; other statuses are.
    expect(customerQuery({ status: 'active' })).toEqual({})
    expect(customerQuery({ status: 'all' })).toEqual({ status: 'all' })
  })

  it('list() puts filters and paging in the URL', async () => {
    const { calls } = mockFetch({ 'GET /customers': { body: { items: [], count: 0, page: 2, page_size: 20 } } })
    await customersApi.list({ q: '张', mine: true, credit_level: 'none' }, 2)
    const params = calls[0]!.url.searchParams
    expect(params.get('q')).toBe('张')
    expect(params.get('mine')).toBe('true')
    expect(params.get('credit_level')).toBe('none')
    expect(params.get('page')).toBe('2')
    expect(params.get('page_size')).toBe('20')
    expect(params.has('tag')).toBe(false)
  })

  it('export sends the same filters (no paging) and returns the blob with its file name', async () => {
    const fn = vi.fn(async () =>
      new Response('xlsx-bytes', {
        status: 200,
        headers: {
          'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          'Content-Disposition': "attachment; filename*=UTF-8''customers-20261128-0930.xlsx",
        },
      }),
    )
    vi.stubGlobal('fetch', fn)
    const file = await customersApi.exportXlsx({ q: 'zw', tag: 4, mine: true })
    const url = new URL(String((fn.mock.calls[0] as unknown[])[0]), 'http://localhost')
    expect(url.pathname).toBe('/api/v1/customers/export')
    expect(Object.fromEntries(url.searchParams)).toEqual({ q: 'zw', tag: '4', mine: 'true' })
    expect(file.filename).toBe('customers-20261128-0930.xlsx')
    expect(await file.blob.text()).toBe('xlsx-bytes')
  })
})

describe('multipart uploads', () => {
  it('uploadDocument posts FormData with kind and file, CSRF and language headers', async () => {
    const doc = { id: 9, customer_id: 5, kind: 'id_front', original_name: 'a.jpg', content_type: 'image/jpeg', url: '/api/v1/customers/5/documents/9/file' }
    const fn = vi.fn(async () => new Response(JSON.stringify(doc), { status: 201, headers: { 'Content-Type': 'application/json' } }))
    vi.stubGlobal('fetch', fn)
    setLocale('en-US', { persist: false })
    const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'a.jpg', { type: 'image/jpeg' })
    const out = await customersApi.uploadDocument(5, file, 'id_front')
    expect(out.id).toBe(9)
    const [url, init] = fn.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/customers/5/documents')
    expect(init.method).toBe('POST')
    expect(init.credentials).toBe('same-origin')
    const headers = init.headers as Record<string, string>
    expect(headers['X-CSRFToken']).toBe('tok')
    expect(headers['Accept-Language']).toBe('en-US')
    // The browser sets the multipart boundary: no Content-Type of our own.
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('content-type')
    const body = init.body as FormData
    expect(body).toBeInstanceOf(FormData)
    expect(body.get('kind')).toBe('id_front')
    const sent = body.get('file') as File
    expect(sent.name).toBe('a.jpg')
    expect(sent.size).toBe(3)
  })

  it('uploadImport posts the workbook as "file"', async () => {
    const fn = vi.fn(async () => new Response(JSON.stringify({ id: 3 }), { status: 201, headers: { 'Content-Type': 'application/json' } }))
    vi.stubGlobal('fetch', fn)
    await customersApi.uploadImport(new File(['PK'], '客户.xlsx'))
    const [url, init] = fn.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/customers/imports')
    expect(((init.body as FormData).get('file') as File).name).toBe('客户.xlsx')
  })

  it('turns a 422 into ApiError with field messages', async () => {
    mockFetch({
      'POST /customers/5/documents': apiError(422, 'customers.file_type', '只支持图片和 PDF', {
        fields: { file: '只支持图片和 PDF' },
      }),
    })
    const err = await customersApi.uploadDocument(5, new Blob(['x']), 'other', 'x.txt', true).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(422)
    expect((err as ApiError).fields.file).toBe('只支持图片和 PDF')
  })

  it('refreshes a stale CSRF token once', async () => {
    let n = 0
    const fn = vi.fn(async (input: RequestInfo | URL) => {
      const path = new URL(String(input), 'http://localhost').pathname
      if (path === '/api/v1/auth/csrf') return new Response(JSON.stringify({ csrf_token: 'fresh' }), { headers: { 'Content-Type': 'application/json' } })
      n += 1
      if (n === 1) return new Response(JSON.stringify({ code: 'csrf_failed', message: 'CSRF', details: {} }), { status: 403, headers: { 'Content-Type': 'application/json' } })
      return new Response(JSON.stringify({ id: 1 }), { status: 201, headers: { 'Content-Type': 'application/json' } })
    })
    vi.stubGlobal('fetch', fn)
    clearCookies()
    await customersApi.uploadDocument(1, new Blob(['x']), 'other', 'x.png')
    expect(n).toBe(2)
  })
})

describe('helpers', () => {
  it('reads the 409 duplicate details', () => {
    const e = new ApiError(409, 'customers.duplicate', '已存在身份证号相同的客户', {
      customer_id: 42,
      field: 'id_number',
      accessible: true,
      owner_name: '王小明',
    })
    expect(duplicateOf(e)).toEqual({ customer_id: 42, field: 'id_number', accessible: true, owner_name: '王小明' })
    expect(duplicateOf(new ApiError(409, 'conflict', 'x'))).toBeNull()
    expect(duplicateOf(new Error('x'))).toBeNull()
  })

  it('takes the file name from Content-Disposition', () => {
    const res = (cd: string) => new Response(null, { headers: { 'Content-Disposition': cd } })
    expect(filenameFrom(res('attachment; filename="a.pdf"'), 'x')).toBe('a.pdf')
    expect(filenameFrom(res("attachment; filename*=utf-8''%E8%BA%AB%E4%BB%BD%E8%AF%81.png"), 'x')).toBe('身份证.png')
    expect(filenameFrom(new Response(null), 'fallback.bin')).toBe('fallback.bin')
  })
})

import { customersApi } from '@/api/customers'

/**
 * Object URLs for files fetched through the authorised endpoint. Documents are never linked
 * directly (no public URLs, and <img src> could not send the session's language or be audited
 * the same way); each is fetched once as a blob and shared by thumbnails and the previewer.
 * The cache is bounded: evicted URLs are revoked.
 */
const LIMIT = 80
const cache = new Map<string, Promise<string>>()

export function blobUrl(url: string): Promise<string> {
  const hit = cache.get(url)
  if (hit) {
    cache.delete(url)
    cache.set(url, hit) // most recently used last
    return hit
  }
  const promise = customersApi.fetchFile(url, { quiet: true }).then((f) => URL.createObjectURL(f.blob))
  promise.catch(() => cache.delete(url))
  cache.set(url, promise)
  while (cache.size > LIMIT) {
    const [oldest, p] = cache.entries().next().value as [string, Promise<string>]
    cache.delete(oldest)
    void p.then((u) => URL.revokeObjectURL(u)).catch(() => undefined)
  }
  return promise
}

export function forgetBlob(url: string): void {
  const p = cache.get(url)
  cache.delete(url)
  void p?.then((u) => URL.revokeObjectURL(u)).catch(() => undefined)
}

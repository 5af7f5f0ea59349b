import { http, type RequestOptions } from './client'

/** Permission to run close of business (and see its runs). */
export const RUN_COB_PERM = 'postloan.run_cob'
/** Permission to edit the delinquency buckets and five-category thresholds. */
export const MANAGE_COB_SETTINGS_PERM = 'postloan.manage_settings'

export type CobStatus = 'queued' | 'running' | 'done' | 'failed'
export type CobStepName = 'installments' | 'loans' | 'penalty' | 'reminders' | 'collections' | 'snapshot'

export interface CobStep {
  step: CobStepName
  status: 'pending' | 'running' | 'done' | 'failed'
  partitions: number
  done: number
  failed: number
  rows: number
  started_at: string | null
  finished_at: string | null
}

export interface CobRun {
  id: number
  /** YYYY-MM-DD: the business date this run closes. */
  business_date: string
  status: CobStatus
  trigger: string
  workers: number
  attempts: number
  created_at: string
  started_at: string | null
  finished_at: string | null
  error: string
  steps: CobStep[]
}

export interface CobOverview {
  business_date: string
  /** The first date not closed yet. */
  next_date: string
  running: boolean
  runs: CobRun[]
}

export interface Bucket {
  code: string
  min_dpd: number
  max_dpd: number | null
}

export type Classification = 'normal' | 'special_mention' | 'substandard' | 'doubtful' | 'loss'

export interface Threshold {
  classification: Classification
  min_dpd: number
}

export interface CobSettings {
  buckets: Bucket[]
  thresholds: Threshold[]
}

type Options = Omit<RequestOptions, 'body'>

export const postloanApi = {
  overview: (options?: Options) => http.get<CobOverview>('/postloan/cob', undefined, options),
  run: (id: number, options?: Options) => http.get<CobRun>(`/postloan/cob/runs/${id}`, undefined, options),
  /** Queue a run closing every open date up to `until` (default: the next open date). */
  start: (body: { until?: string }, options?: Options) => http.post<CobRun>('/postloan/cob/runs', body, options),
  settings: (options?: Options) => http.get<CobSettings>('/postloan/settings', undefined, options),
  saveBuckets: (buckets: Bucket[], options?: Options) =>
    http.put<CobSettings>('/postloan/settings/buckets', { buckets }, options),
  saveThresholds: (thresholds: Threshold[], options?: Options) =>
    http.put<CobSettings>('/postloan/settings/thresholds', { thresholds }, options),
}

/** Whether any run is still moving (the page polls while this holds). */
export function isActive(o: CobOverview | null): boolean {
  return !!o && (o.running || o.runs.some((r) => r.status === 'queued' || r.status === 'running'))
}

/** Buckets must start at 0 (current = 0..0), be contiguous and end open; returns the first
 *  problem's index (or -1). Mirrors the server's check so the editor can point at the row. */
export function bucketProblem(buckets: Bucket[]): number {
  if (!buckets.length) return 0
  let expected = 0
  for (const [i, b] of buckets.entries()) {
    if (!b.code.trim() || b.min_dpd !== expected) return i
    const last = i === buckets.length - 1
    if (last) return b.max_dpd === null ? -1 : i
    if (b.max_dpd === null || b.max_dpd < b.min_dpd || (i === 0 && b.max_dpd !== 0)) return i
    expected = b.max_dpd + 1
  }
  return -1
}

/** A new bucket list with the next row's minimum following each maximum. */
export function chainBuckets(buckets: Bucket[]): Bucket[] {
  let next = 0
  return buckets.map((b, i) => {
    const out = { ...b, min_dpd: next }
    if (i === buckets.length - 1) out.max_dpd = null
    else if (out.max_dpd === null || out.max_dpd < next) out.max_dpd = next
    next = (out.max_dpd ?? next) + 1
    return out
  })
}

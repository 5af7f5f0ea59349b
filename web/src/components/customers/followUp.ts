import type { FollowUpBody, FollowUpKind } from '@/api/customers'

export interface FollowUpForm {
  kind: FollowUpKind
  content: string
  /** Document ids of photos already uploaded (kind "photo"). */
  photoIds: number[]
  location: { latitude: number; longitude: number; accuracy?: number } | null
  locationAddress: string
  /** "YYYY-MM-DD HH:mm" in Asia/Shanghai, or '' for none. */
  nextAt: string
}

export function emptyFollowUp(kind: FollowUpKind = 'call'): FollowUpForm {
  return { kind, content: '', photoIds: [], location: null, locationAddress: '', nextAt: '' }
}

/** A coordinate as the API's decimal (≤ 6 places, no float noise like 39.900000000001). */
export function coordinate(value: number): string {
  const fixed = value.toFixed(6)
  return fixed.replace(/\.?0+$/, '') || '0'
}

/** "2026-12-01 09:30" (Shanghai wall time) → "2026-12-01T09:30:00+08:00"; null when blank/invalid. */
export function shanghaiIso(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(local.trim())
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00+08:00` : null
}

/** The JSON body for POST /customers/{id}/follow-ups. */
export function followUpPayload(form: FollowUpForm): FollowUpBody {
  const body: FollowUpBody = {
    kind: form.kind,
    content: form.content.trim(),
    photo_ids: [...new Set(form.photoIds)],
  }
  if (form.location) {
    body.latitude = coordinate(form.location.latitude)
    body.longitude = coordinate(form.location.longitude)
  }
  const address = form.locationAddress.trim()
  if (address) body.location_address = address
  const next = shanghaiIso(form.nextAt)
  if (next) body.next_follow_up_at = next
  return body
}

/** Now + days at a round time, as "YYYY-MM-DD HH:mm" in Asia/Shanghai (picker defaults). */
export function shanghaiLocal(date: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00'
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`
}

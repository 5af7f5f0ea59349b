import { ref } from 'vue'
import { flowsApi, type InboxCounts } from '@/api/flows'

/** The inbox counts, shared by the tab bar badge and the 审批 tab (one request at a time). */
export const inboxCounts = ref<InboxCounts | null>(null)
let inFlight: Promise<void> | null = null

export function refreshInboxCounts(): Promise<void> {
  inFlight ??= flowsApi
    .counts()
    .then((c) => {
      inboxCounts.value = c
    })
    .catch(() => {
      /* the badge is a hint: keep the last known counts */
    })
    .finally(() => {
      inFlight = null
    })
  return inFlight
}

export function resetInboxCounts(): void {
  inboxCounts.value = null
  inFlight = null
}

/** A badge value: nothing for zero, "99+" above 99. */
export function badgeText(n: number | null | undefined): string | undefined {
  if (!n || n <= 0) return undefined
  return n > 99 ? '99+' : String(n)
}

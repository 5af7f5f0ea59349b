import { ref } from 'vue'
import { notifyApi } from '@/api/notify'

/** The unread message count, shared by the tab bar badge and the 消息 tab (one request at a time). */
export const unreadCount = ref<number | null>(null)
let inFlight: Promise<void> | null = null

export function refreshUnreadCount(): Promise<void> {
  inFlight ??= notifyApi
    .unreadCount()
    .then((c) => {
      unreadCount.value = c.unread
    })
    .catch(() => {
      /* the badge is a hint: keep the last known count */
    })
    .finally(() => {
      inFlight = null
    })
  return inFlight
}

/** Set the count from an answer that already carries it (read-all), or lower it by one. */
export function setUnreadCount(n: number): void {
  unreadCount.value = Math.max(0, n)
}

export function resetUnreadCount(): void {
  unreadCount.value = null
  inFlight = null
}

import type { Message } from '@/api/notify'
import { t } from '@/i18n'
import { formatDateTime } from '@/utils/format'

/** When a message arrived, in words: 刚刚 / N 分钟前 / N 小时前 / 昨天 HH:mm / MM-DD HH:mm. */
export function messageTime(iso: string, now: Date = new Date()): string {
  const at = new Date(iso)
  const seconds = Math.floor((now.getTime() - at.getTime()) / 1000)
  if (Number.isNaN(seconds)) return ''
  if (seconds < 60) return t('notify.time.justNow')
  if (seconds < 3600) return t('notify.time.minutes', { n: Math.floor(seconds / 60) })
  if (seconds < 86400) return t('notify.time.hours', { n: Math.floor(seconds / 3600) })
  if (seconds < 7 * 86400) return t('notify.time.days', { n: Math.floor(seconds / 86400) })
  return formatDateTime(iso)
}

/** The Vant icon of a message kind. */
export function messageIcon(kind: Message['kind']): string {
  switch (kind) {
    case 'task':
    case 'escalation':
      return 'todo-list-o'
    case 'reminder':
    case 'urge':
      return 'clock-o'
    case 'returned':
      return 'revoke'
    case 'finished':
      return 'passed'
    case 'cc':
      return 'share-o'
    case 'escalation_failed':
    case 'automated_failed':
    case 'no_assignee':
      return 'warning-o'
    default:
      return 'chat-o'
  }
}

/** Only in-app paths are followed; anything else stays on the list. */
export function safeLink(link: string | null | undefined): string | null {
  if (!link || !link.startsWith('/') || link.startsWith('//')) return null
  return link
}

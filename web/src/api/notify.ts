/**
 * Notify API (/api/v1/notify, 消息): the caller's in-app messages. Shapes follow docs/api-notify.md.
 */
import { http } from './client'

export type MessageKind =
  | 'task'
  | 'escalation'
  | 'reminder'
  | 'urge'
  | 'returned'
  | 'finished'
  | 'cc'
  | 'escalation_failed'
  | 'automated_failed'
  | 'no_assignee'
  | 'message'

export interface Message {
  id: number
  kind: MessageKind | string
  title: string
  body: string
  /** An in-app path such as /approvals/12 ('' when there is nothing to open). */
  link: string
  created_at: string
  read_at: string | null
  unread: boolean
}

export interface MessagePage {
  items: Message[]
  next: string | null
}

const base = '/notify'

export const notifyApi = {
  list: (cursor: string | null, unread?: boolean) =>
    http.get<MessagePage>(`${base}/messages`, { cursor, unread: unread === undefined ? undefined : unread }),
  unreadCount: () => http.get<{ unread: number }>(`${base}/unread-count`, undefined, { quiet: true }),
  read: (id: number) => http.post<Message>(`${base}/messages/${id}/read`),
  readAll: () => http.post<{ updated: number; unread: number }>(`${base}/messages/read-all`),
}

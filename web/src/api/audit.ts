import { http, type Query } from './client'
import type { AuditEntry, AuditQuery, Page } from './types'

export const auditApi = {
  entries: (query: AuditQuery = {}) => http.get<Page<AuditEntry>>('/audit/entries', query as Query),
}

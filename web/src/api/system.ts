import { http } from './client'
import type { Health } from './types'

export const systemApi = {
  health: () => http.get<Health>('/health'),
}

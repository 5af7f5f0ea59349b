// Shapes of the LoanDesk API (/api/v1). Timestamps are ISO-8601 strings.

export interface Page<T> {
  items: T[]
  count: number
  page: number
  page_size: number
}

export interface DepartmentRef {
  id: number
  name: string
  path: string
}

export interface RoleRef {
  id: number
  code: string
  name: string
}

export interface Me {
  id: number
  username: string
  full_name: string
  phone: string
  email: string
  department: DepartmentRef | null
  roles: RoleRef[]
  permissions: string[]
  is_superuser: boolean
  otp_enabled: boolean
  otp_required: boolean
  language: string
  business_date: string
}

export interface LoginRequest {
  username: string
  password: string
  otp_code?: string
}

export interface ApiTokenInfo {
  id: number
  name: string
  prefix: string
  created_at: string
  last_used_at: string | null
  revoked: boolean
}

export interface CreatedApiToken {
  id: number
  name: string
  prefix: string
  created_at: string
  /** The full secret, returned once. */
  token: string
}

export interface OtpSetup {
  secret: string
  otpauth_url: string
  qr_png: string
}

export interface AdminUser {
  id: number
  username: string
  full_name: string
  phone: string
  email: string
  department: DepartmentRef | null
  roles: RoleRef[]
  is_active: boolean
  last_login: string | null
}

export interface UserListQuery {
  q?: string
  department_id?: number | null
  role_id?: number | null
  is_active?: boolean | null
  page?: number
  page_size?: number
}

export interface UserCreate {
  username: string
  full_name: string
  phone: string
  email: string
  department_id: number | null
  role_ids: number[]
  password: string
}

export type UserUpdate = Partial<{
  full_name: string
  phone: string
  email: string
  department_id: number | null
  role_ids: number[]
  is_active: boolean
  password: string
}>

export interface Department {
  id: number
  name: string
  parent_id: number | null
  head: { id: number; full_name: string } | null
  path: string
  user_count: number
}

export interface DepartmentCreate {
  name: string
  parent_id: number | null
  head_id?: number | null
}

export type DepartmentUpdate = Partial<{ name: string; parent_id: number | null; head_id: number | null }>

export type DataScope = 'self' | 'department' | 'department_tree' | 'all'
export const DATA_SCOPES: readonly DataScope[] = ['self', 'department', 'department_tree', 'all']

export interface Role {
  id: number
  code: string
  name: string
  data_scope: DataScope
  permissions: string[]
  user_count: number
}

export interface RoleCreate {
  code: string
  name: string
  data_scope: DataScope
  permissions: string[]
}

export type RoleUpdate = Partial<Omit<RoleCreate, 'code'>>

export interface Permission {
  code: string
  name: string
  group: string
}

export interface AuditEntry {
  id: number
  at: string
  actor: { id: number; username: string; full_name: string } | null
  action: string
  action_label: string
  target_type: string
  target_id: string
  target_label: string
  ip: string
  changes: Record<string, [unknown, unknown]>
  extra: Record<string, unknown>
}

export interface AuditQuery {
  actor_id?: number | null
  action?: string
  target_type?: string
  since?: string
  until?: string
  q?: string
  page?: number
  page_size?: number
}

export interface Health {
  status: string
  database: string
  version: string
  business_date: string
}

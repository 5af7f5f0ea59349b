import { http, type Query, type RequestOptions } from './client'
import type {
  AdminUser,
  Department,
  DepartmentCreate,
  DepartmentUpdate,
  Page,
  Permission,
  Role,
  RoleCreate,
  RoleUpdate,
  UserCreate,
  UserListQuery,
  UserUpdate,
} from './types'

export const usersApi = {
  list: (query: UserListQuery = {}) => http.get<Page<AdminUser>>('/accounts/users', query as Query),
  get: (id: number) => http.get<AdminUser>(`/accounts/users/${id}`),
  create: (body: UserCreate) => http.post<AdminUser>('/accounts/users', body),
  update: (id: number, body: UserUpdate) => http.patch<AdminUser>(`/accounts/users/${id}`, body),
}

export const departmentsApi = {
  list: (options: Pick<RequestOptions, 'quiet'> = {}) => http.get<Department[]>('/accounts/departments', undefined, options),
  create: (body: DepartmentCreate) => http.post<Department>('/accounts/departments', body),
  update: (id: number, body: DepartmentUpdate) => http.patch<Department>(`/accounts/departments/${id}`, body),
  remove: (id: number) => http.delete(`/accounts/departments/${id}`),
}

export const rolesApi = {
  list: (options: Pick<RequestOptions, 'quiet'> = {}) => http.get<Role[]>('/accounts/roles', undefined, options),
  create: (body: RoleCreate) => http.post<Role>('/accounts/roles', body),
  update: (id: number, body: RoleUpdate) => http.patch<Role>(`/accounts/roles/${id}`, body),
  permissions: () => http.get<Permission[]>('/accounts/permissions'),
}

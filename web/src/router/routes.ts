import type { RouteRecordRaw } from 'vue-router'
import { ADMIN_PERMISSIONS } from '@/stores/user'
import { MANAGE_CALENDAR_PERM } from '@/api/calendar'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** A tab root: shows the tab bar, no back arrow. */
    tab?: boolean
    /** i18n key of the page title (document.title). */
    title?: string
    /** Permission code required (superusers pass). */
    perm?: string
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  { path: '/', name: 'home', component: () => import('@/views/HomeView.vue'), meta: { tab: true, title: 'home.title' } },
  {
    path: '/customers',
    name: 'customers',
    component: () => import('@/views/CustomersView.vue'),
    meta: { tab: true, title: 'customers.title' },
  },
  {
    path: '/approvals',
    name: 'approvals',
    component: () => import('@/views/ApprovalsView.vue'),
    meta: { tab: true, title: 'approvals.title' },
  },
  {
    path: '/messages',
    name: 'messages',
    component: () => import('@/views/MessagesView.vue'),
    meta: { tab: true, title: 'messages.title' },
  },
  { path: '/me', name: 'me', component: () => import('@/views/MeView.vue'), meta: { tab: true, title: 'me.title' } },
  {
    path: '/me/profile',
    name: 'profile',
    component: () => import('@/views/me/ProfileView.vue'),
    meta: { title: 'profile.title' },
  },
  {
    path: '/me/password',
    name: 'password',
    component: () => import('@/views/me/PasswordView.vue'),
    meta: { title: 'password.title' },
  },
  { path: '/me/otp', name: 'otp', component: () => import('@/views/me/OtpView.vue'), meta: { title: 'otp.title' } },
  {
    path: '/me/tokens',
    name: 'tokens',
    component: () => import('@/views/me/TokensView.vue'),
    meta: { title: 'tokens.title' },
  },
  {
    path: '/calculator',
    name: 'calculator',
    component: () => import('@/views/CalculatorView.vue'),
    meta: { title: 'calculator.title' },
  },
  {
    path: '/manage/users',
    name: 'admin-users',
    component: () => import('@/views/admin/UsersView.vue'),
    meta: { title: 'admin.users.title', perm: ADMIN_PERMISSIONS.users },
  },
  {
    path: '/manage/users/new',
    name: 'admin-user-new',
    component: () => import('@/views/admin/UserEditView.vue'),
    meta: { title: 'admin.users.create', perm: ADMIN_PERMISSIONS.users },
  },
  {
    path: '/manage/users/:id(\\d+)',
    name: 'admin-user-edit',
    component: () => import('@/views/admin/UserEditView.vue'),
    props: true,
    meta: { title: 'admin.users.edit', perm: ADMIN_PERMISSIONS.users },
  },
  {
    path: '/manage/departments',
    name: 'admin-departments',
    component: () => import('@/views/admin/DepartmentsView.vue'),
    meta: { title: 'admin.departments.title', perm: ADMIN_PERMISSIONS.departments },
  },
  {
    path: '/manage/roles',
    name: 'admin-roles',
    component: () => import('@/views/admin/RolesView.vue'),
    meta: { title: 'admin.roles.title', perm: ADMIN_PERMISSIONS.roles },
  },
  {
    path: '/manage/roles/new',
    name: 'admin-role-new',
    component: () => import('@/views/admin/RoleEditView.vue'),
    meta: { title: 'admin.roles.create', perm: ADMIN_PERMISSIONS.roles },
  },
  {
    path: '/manage/roles/:id(\\d+)',
    name: 'admin-role-edit',
    component: () => import('@/views/admin/RoleEditView.vue'),
    props: true,
    meta: { title: 'admin.roles.edit', perm: ADMIN_PERMISSIONS.roles },
  },
  {
    path: '/manage/audit',
    name: 'admin-audit',
    component: () => import('@/views/admin/AuditView.vue'),
    meta: { title: 'admin.audit.title', perm: ADMIN_PERMISSIONS.audit },
  },
  {
    path: '/manage/holidays',
    name: 'admin-holidays',
    component: () => import('@/views/admin/HolidaysView.vue'),
    meta: { title: 'admin.holidays.title', perm: MANAGE_CALENDAR_PERM },
  },
  {
    path: '/manage/holidays/:year(\\d{4})',
    name: 'admin-holiday-year',
    component: () => import('@/views/admin/HolidayYearEditView.vue'),
    props: true,
    meta: { title: 'admin.holidays.title', perm: MANAGE_CALENDAR_PERM },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { title: 'notFound.title' },
  },
]

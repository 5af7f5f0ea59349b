import type { RouteRecordRaw } from 'vue-router'
import { ADMIN_PERMISSIONS } from '@/stores/user'
import { MANAGE_CALENDAR_PERM } from '@/api/calendar'
import { DISBURSE_PERM, MANAGE_PRODUCTS_PERM, VIEW_LOANS_PERM } from '@/api/lending'
import { contractsRoutes } from './modules/contracts'
import { flowDesignerRoutes } from './modules/flowDesigner'
import { flowsRoutes } from './modules/flows'
import { postloanRoutes } from './modules/postloan'
import { riskRoutes } from './modules/risk'
import { repaymentsRoutes } from './modules/repayments'
import { collectionsRoutes } from './modules/collections'
import { rulesRoutes } from './modules/rules'
import { accountingRoutes } from './modules/accounting'
import { reportsRoutes } from './modules/reports'
import { channelsRoutes } from './modules/channels'

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
    path: '/customers/new',
    name: 'customer-new',
    component: () => import('@/views/customers/CustomerEditView.vue'),
    meta: { title: 'customers.form.createTitle', perm: 'customers.create' },
  },
  {
    path: '/customers/import',
    name: 'customer-import',
    component: () => import('@/views/customers/CustomerImportView.vue'),
    meta: { title: 'customers.import.title', perm: 'customers.import' },
  },
  {
    path: '/customers/:id(\\d+)',
    name: 'customer',
    component: () => import('@/views/customers/CustomerDetailView.vue'),
    props: true,
    meta: { title: 'customers.detail.title', perm: 'customers.view' },
  },
  {
    path: '/customers/:id(\\d+)/edit',
    name: 'customer-edit',
    component: () => import('@/views/customers/CustomerEditView.vue'),
    props: true,
    meta: { title: 'customers.form.editTitle', perm: 'customers.update' },
  },
  {
    path: '/customers/:id(\\d+)/follow-up',
    name: 'customer-follow-up',
    component: () => import('@/views/customers/FollowUpEditView.vue'),
    props: true,
    meta: { title: 'customers.followUp.title', perm: 'customers.update' },
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
  // Form engine: designer, records, and the public pages behind shared links (no sign-in).
  {
    path: '/manage/forms',
    name: 'forms-design-list',
    component: () => import('@/views/forms/FormsListView.vue'),
    meta: { title: 'forms.list.title', perm: 'forms.design' },
  },
  {
    path: '/manage/forms/:code/design',
    name: 'forms-designer',
    component: () => import('@/views/forms/FormDesignerView.vue'),
    props: true,
    meta: { title: 'forms.design.title', perm: 'forms.design' },
  },
  {
    path: '/forms',
    name: 'forms-index',
    component: () => import('@/views/forms/FormsIndexView.vue'),
    meta: { title: 'forms.index.title', perm: 'forms.view_records' },
  },
  {
    path: '/forms/:code/records',
    name: 'forms-records',
    component: () => import('@/views/forms/RecordsView.vue'),
    props: true,
    meta: { title: 'forms.records.title', perm: 'forms.view_records' },
  },
  {
    path: '/forms/:code/new',
    name: 'forms-record-new',
    component: () => import('@/views/forms/RecordEditView.vue'),
    props: true,
    meta: { title: 'forms.records.new', perm: 'forms.submit' },
  },
  {
    path: '/forms/:code/records/:id(\\d+)',
    name: 'forms-record',
    component: () => import('@/views/forms/RecordDetailView.vue'),
    props: true,
    meta: { title: 'forms.records.detailTitle', perm: 'forms.view_records' },
  },
  {
    path: '/forms/:code/records/:id(\\d+)/edit',
    name: 'forms-record-edit',
    component: () => import('@/views/forms/RecordEditView.vue'),
    props: true,
    meta: { title: 'forms.records.edit', perm: 'forms.submit' },
  },
  {
    path: '/f/:token',
    name: 'public-form',
    component: () => import('@/views/forms/PublicFormView.vue'),
    props: true,
    meta: { public: true, title: 'forms.public.title' },
  },
  {
    path: '/s/:token',
    name: 'public-status',
    component: () => import('@/views/forms/PublicStatusView.vue'),
    props: true,
    meta: { public: true, title: 'forms.public.statusTitle' },
  },
  // Lending: product admin, disbursement, loan detail.
  {
    path: '/manage/products',
    name: 'admin-products',
    component: () => import('@/views/lending/ProductsView.vue'),
    meta: { title: 'lending.products.title', perm: MANAGE_PRODUCTS_PERM },
  },
  {
    path: '/manage/products/new',
    name: 'admin-product-new',
    component: () => import('@/views/lending/ProductEditView.vue'),
    meta: { title: 'lending.products.create', perm: MANAGE_PRODUCTS_PERM },
  },
  {
    path: '/manage/products/:id(\\d+)',
    name: 'admin-product-edit',
    component: () => import('@/views/lending/ProductEditView.vue'),
    props: true,
    meta: { title: 'lending.products.edit', perm: MANAGE_PRODUCTS_PERM },
  },
  {
    path: '/lending/disburse',
    name: 'lending-disburse',
    component: () => import('@/views/lending/DisburseView.vue'),
    meta: { title: 'lending.disburse.title', perm: DISBURSE_PERM },
  },
  {
    path: '/loans/:id(\\d+)',
    name: 'loan',
    component: () => import('@/views/lending/LoanDetailView.vue'),
    props: true,
    meta: { title: 'lending.loan.title', perm: VIEW_LOANS_PERM },
  },
  ...flowsRoutes,
  ...flowDesignerRoutes,
  ...riskRoutes,
  ...contractsRoutes,
  ...postloanRoutes,
  ...repaymentsRoutes,
  ...collectionsRoutes,
  ...rulesRoutes,
  ...accountingRoutes,
  ...reportsRoutes,
  ...channelsRoutes,
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { title: 'notFound.title' },
  },
]

import { ADMIN_PERMISSIONS } from '@/stores/user'
import { MANAGE_CALENDAR_PERM } from '@/api/calendar'
import { DISBURSE_PERM, MANAGE_PRODUCTS_PERM } from '@/api/lending'

/** Admin pages, shown only to users holding the permission (or superusers). */
export const ADMIN_ENTRIES = [
  { key: 'users', to: '/manage/users', icon: 'manager-o', label: 'admin.users.title', perm: ADMIN_PERMISSIONS.users },
  {
    key: 'departments',
    to: '/manage/departments',
    icon: 'cluster-o',
    label: 'admin.departments.title',
    perm: ADMIN_PERMISSIONS.departments,
  },
  { key: 'roles', to: '/manage/roles', icon: 'shield-o', label: 'admin.roles.title', perm: ADMIN_PERMISSIONS.roles },
  { key: 'audit', to: '/manage/audit', icon: 'records-o', label: 'admin.audit.title', perm: ADMIN_PERMISSIONS.audit },
  {
    key: 'holidays',
    to: '/manage/holidays',
    icon: 'calendar-o',
    label: 'admin.holidays.title',
    perm: MANAGE_CALENDAR_PERM,
  },
  { key: 'forms', to: '/manage/forms', icon: 'todo-list-o', label: 'forms.list.title', perm: 'forms.design' },
  { key: 'products', to: '/manage/products', icon: 'gold-coin-o', label: 'lending.products.title', perm: MANAGE_PRODUCTS_PERM },
  { key: 'flows', to: '/manage/flows', icon: 'cluster-o', label: 'flowDesigner.title', perm: 'flows.design' },
  {
    key: 'flow-analytics',
    to: '/manage/flow-analytics',
    icon: 'chart-trending-o',
    label: 'flows.analytics.title',
    perm: 'flows.analytics',
  },
  { key: 'scorecards', to: '/manage/scorecards', icon: 'medal-o', label: 'risk.scorecards.title', perm: 'risk.manage_scorecards' },
  {
    key: 'contract-templates',
    to: '/manage/contract-templates',
    icon: 'description',
    label: 'contracts.templates.title',
    perm: 'contracts.manage_templates',
  },
  { key: 'dashboards', to: '/manage/dashboards', icon: 'chart-trending-o', label: 'reports.designer.list', perm: 'reports.design' },
  { key: 'collections', to: '/manage/collections', icon: 'phone-o', label: 'collections.manageEntry', perm: 'collections.manage' },
  { key: 'cob', to: '/manage/cob', icon: 'clock-o', label: 'postloan.cob.title', perm: 'postloan.run_cob' },
  { key: 'rules', to: '/manage/rules', icon: 'bulb-o', label: 'rules.title', perm: 'rules.design' },
  { key: 'channels', to: '/manage/channels', icon: 'chat-o', label: 'channels.title', perm: 'notify.manage_channels' },
  { key: 'disburse', to: '/lending/disburse', icon: 'balance-pay', label: 'lending.disburse.entry', perm: DISBURSE_PERM },
  { key: 'accounting', to: '/manage/accounting', icon: 'balance-o', label: 'accounting.chart.title', perm: 'accounting.manage' },
] as const

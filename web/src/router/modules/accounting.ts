import type { RouteRecordRaw } from 'vue-router'
import {
  EXPORT_VOUCHERS_PERM,
  IMPORT_STATEMENTS_PERM,
  MANAGE_ACCOUNTING_PERM,
  REQUEST_WRITE_OFF_PERM,
} from '@/api/accounting'

// Routes of the accounting feature; spread into the app's routes before the catch-all.
export const accountingRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/accounting',
    name: 'accounting-chart',
    component: () => import('@/views/accounting/ChartView.vue'),
    meta: { title: 'accounting.chart.title', perm: MANAGE_ACCOUNTING_PERM },
  },
  {
    path: '/accounting/journal',
    name: 'accounting-journal',
    component: () => import('@/views/accounting/JournalView.vue'),
    meta: { title: 'accounting.journal.title', perm: EXPORT_VOUCHERS_PERM },
  },
  {
    path: '/accounting/statements',
    name: 'accounting-statements',
    component: () => import('@/views/accounting/StatementImportView.vue'),
    meta: { title: 'accounting.statements.title', perm: IMPORT_STATEMENTS_PERM },
  },
  {
    path: '/lending/loans/:id(\\d+)/write-off',
    name: 'loan-write-off',
    component: () => import('@/views/accounting/WriteOffView.vue'),
    props: true,
    meta: { title: 'accounting.writeOff.title', perm: REQUEST_WRITE_OFF_PERM },
  },
]

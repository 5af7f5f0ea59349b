import type { RouteRecordRaw } from 'vue-router'
import { REPORTS_DESIGN_PERM, REPORTS_VIEW_PERM } from '@/api/reports'

// Routes of the reports feature; spread into the app's routes before the catch-all.
export const reportsRoutes: RouteRecordRaw[] = [
  {
    path: '/reports',
    name: 'reports',
    component: () => import('@/views/reports/DashboardsView.vue'),
    meta: { title: 'reports.title', perm: REPORTS_VIEW_PERM },
  },
  {
    path: '/reports/records',
    name: 'report-records',
    component: () => import('@/views/reports/RecordsView.vue'),
    meta: { title: 'reports.recordsTitle', perm: REPORTS_VIEW_PERM },
  },
  {
    path: '/reports/:id(\\d+)',
    name: 'report-dashboard',
    component: () => import('@/views/reports/DashboardView.vue'),
    meta: { title: 'reports.title', perm: REPORTS_VIEW_PERM },
  },
  {
    path: '/manage/dashboards',
    name: 'report-designer-list',
    component: () => import('@/views/reports/DesignerListView.vue'),
    meta: { title: 'reports.designer.list', perm: REPORTS_DESIGN_PERM },
  },
  {
    path: '/manage/dashboards/metrics',
    name: 'report-custom-metrics',
    component: () => import('@/views/reports/CustomMetricsView.vue'),
    meta: { title: 'reportsAdmin.metric.list', perm: REPORTS_DESIGN_PERM },
  },
  {
    path: '/manage/dashboards/metrics/:id(\\d+|new)',
    name: 'report-custom-metric',
    component: () => import('@/views/reports/CustomMetricEditView.vue'),
    meta: { title: 'reportsAdmin.metric.edit', perm: REPORTS_DESIGN_PERM },
  },
  {
    path: '/manage/dashboards/channel-costs',
    name: 'report-channel-costs',
    component: () => import('@/views/reports/ChannelCostsView.vue'),
    meta: { title: 'reportsAdmin.costs.title', perm: REPORTS_DESIGN_PERM },
  },
  {
    path: '/manage/dashboards/:id(\\d+|new)',
    name: 'report-designer',
    component: () => import('@/views/reports/DesignerView.vue'),
    meta: { title: 'reports.designer.title', perm: REPORTS_DESIGN_PERM },
  },
]

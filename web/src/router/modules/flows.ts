import type { RouteRecordRaw } from 'vue-router'

// Routes of the flows feature; spread into the app's routes before the catch-all.
export const flowsRoutes: RouteRecordRaw[] = [
  {
    path: '/approvals/:id(\\d+)',
    name: 'approval',
    component: () => import('@/views/flows/InstanceView.vue'),
    props: true,
    meta: { title: 'flows.instance.title' },
  },
  {
    path: '/approvals/:id(\\d+)/resubmit',
    name: 'approval-resubmit',
    component: () => import('@/views/flows/ResubmitView.vue'),
    props: true,
    meta: { title: 'flows.resubmit.title' },
  },
  {
    path: '/manage/flow-analytics',
    name: 'flow-analytics',
    component: () => import('@/views/flows/FlowAnalyticsView.vue'),
    meta: { title: 'flows.analytics.title', perm: 'flows.analytics' },
  },
]

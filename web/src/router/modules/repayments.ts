import type { RouteRecordRaw } from 'vue-router'
import { POST_REPAYMENT_PERM } from '@/api/repayments'

// Routes of the repayments feature; spread into the app's routes before the catch-all.
export const repaymentsRoutes: RouteRecordRaw[] = [
  {
    path: '/lending/repayments',
    name: 'lending-repayments',
    component: () => import('@/views/lending/RepaymentsView.vue'),
    meta: { title: 'repayments.title', perm: POST_REPAYMENT_PERM },
  },
]

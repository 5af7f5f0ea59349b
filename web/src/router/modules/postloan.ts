import type { RouteRecordRaw } from 'vue-router'
import { RUN_COB_PERM } from '@/api/postloan'

// Routes of the post-loan feature; spread into the app's routes before the catch-all.
export const postloanRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/cob',
    name: 'postloan-cob',
    component: () => import('@/views/postloan/CobView.vue'),
    meta: { title: 'postloan.cob.title', perm: RUN_COB_PERM },
  },
]

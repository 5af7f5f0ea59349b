import type { RouteRecordRaw } from 'vue-router'
import { MANAGE_SCORECARDS_PERM } from '@/api/risk'

// Routes of the risk feature; spread into the app's routes before the catch-all.
export const riskRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/scorecards',
    name: 'admin-scorecards',
    component: () => import('@/views/risk/ScorecardsView.vue'),
    meta: { title: 'risk.scorecards.title', perm: MANAGE_SCORECARDS_PERM },
  },
  {
    path: '/manage/scorecards/:code',
    name: 'admin-scorecard-edit',
    component: () => import('@/views/risk/ScorecardEditView.vue'),
    props: true,
    meta: { title: 'risk.editor.title', perm: MANAGE_SCORECARDS_PERM },
  },
]

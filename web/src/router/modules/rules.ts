import type { RouteRecordRaw } from 'vue-router'
import { DESIGN_RULES_PERM } from '@/api/rules'

// Routes of the rules feature; spread into the app's routes before the catch-all.
export const rulesRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/rules',
    name: 'rules-list',
    component: () => import('@/views/rules/RulesListView.vue'),
    meta: { title: 'rules.title', perm: DESIGN_RULES_PERM },
  },
  {
    path: '/manage/rules/new',
    name: 'rules-new',
    component: () => import('@/views/rules/RuleEditView.vue'),
    meta: { title: 'rules.edit.createTitle', perm: DESIGN_RULES_PERM },
  },
  {
    path: '/manage/rules/firings',
    name: 'rules-firings',
    component: () => import('@/views/rules/RuleFiringsView.vue'),
    meta: { title: 'rules.firings.title', perm: DESIGN_RULES_PERM },
  },
  {
    path: '/manage/rules/:id(\\d+)',
    name: 'rules-edit',
    component: () => import('@/views/rules/RuleEditView.vue'),
    meta: { title: 'rules.edit.title', perm: DESIGN_RULES_PERM },
  },
]

import type { RouteRecordRaw } from 'vue-router'
import { MANAGE_TEMPLATES_PERM } from '@/api/contracts'

// Routes of the contracts feature; spread into the app's routes before the catch-all.
export const contractsRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/contract-templates',
    name: 'admin-contract-templates',
    component: () => import('@/views/contracts/ContractTemplatesView.vue'),
    meta: { title: 'contracts.templates.title', perm: MANAGE_TEMPLATES_PERM },
  },
  {
    path: '/manage/contract-templates/new',
    name: 'admin-contract-template-new',
    component: () => import('@/views/contracts/ContractTemplateEditView.vue'),
    meta: { title: 'contracts.edit.createTitle', perm: MANAGE_TEMPLATES_PERM },
  },
  {
    path: '/manage/contract-templates/:code([A-Za-z0-9][A-Za-z0-9_-]{0,39})',
    name: 'admin-contract-template-edit',
    component: () => import('@/views/contracts/ContractTemplateEditView.vue'),
    props: true,
    meta: { title: 'contracts.edit.title', perm: MANAGE_TEMPLATES_PERM },
  },
]

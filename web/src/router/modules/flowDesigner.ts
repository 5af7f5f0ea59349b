import type { RouteRecordRaw } from 'vue-router'
import { FLOWS_DESIGN_PERM } from '@/api/flowDesign'

// Routes of the flow designer; spread into the app's routes before the catch-all.
export const flowDesignerRoutes: RouteRecordRaw[] = [
  {
    path: '/manage/flows',
    name: 'flow-designer-list',
    component: () => import('@/views/flowDesigner/FlowListView.vue'),
    meta: { title: 'flowDesigner.title', perm: FLOWS_DESIGN_PERM },
  },
  {
    path: '/manage/flows/:flowKey([A-Za-z0-9_-]{1,64})',
    name: 'flow-designer',
    component: () => import('@/views/flowDesigner/FlowDesignerView.vue'),
    props: true,
    meta: { title: 'flowDesigner.title', perm: FLOWS_DESIGN_PERM },
  },
]

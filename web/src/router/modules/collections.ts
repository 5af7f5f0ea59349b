import type { RouteRecordRaw } from 'vue-router'
import { COLLECTIONS_MANAGE_PERM, COLLECTIONS_WORK_PERM } from '@/api/collections'

// Routes of the collections feature; spread into the app's routes before the catch-all.
export const collectionsRoutes: RouteRecordRaw[] = [
  {
    path: '/collections',
    name: 'collections-workbench',
    component: () => import('@/views/collections/WorkbenchView.vue'),
    meta: { title: 'collections.title', perm: COLLECTIONS_WORK_PERM },
  },
  {
    // Collectors (own cases) and managers (cases in scope): the server answers 404 otherwise.
    path: '/collections/cases/:id(\\d+)',
    name: 'collections-case',
    component: () => import('@/views/collections/CaseView.vue'),
    props: true,
    meta: { title: 'collections.case.title' },
  },
  {
    path: '/manage/collections',
    name: 'collections-manage',
    component: () => import('@/views/collections/ManageView.vue'),
    meta: { title: 'collections.manage.title', perm: COLLECTIONS_MANAGE_PERM },
  },
  {
    path: '/manage/collections/teams/new',
    name: 'collections-team-new',
    component: () => import('@/views/collections/TeamEditView.vue'),
    meta: { title: 'collections.teamEdit.newTitle', perm: COLLECTIONS_MANAGE_PERM },
  },
  {
    path: '/manage/collections/teams/:id(\\d+)',
    name: 'collections-team-edit',
    component: () => import('@/views/collections/TeamEditView.vue'),
    props: true,
    meta: { title: 'collections.teamEdit.editTitle', perm: COLLECTIONS_MANAGE_PERM },
  },
]

import { createRouter, createWebHistory, type Router, type RouterHistory } from 'vue-router'
import { t } from '@/i18n'
import { authGuard } from './guard'
import { routes } from './routes'

export function createAppRouter(history: RouterHistory = createWebHistory('/')): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  router.beforeEach(authGuard)
  router.afterEach((to) => {
    if (typeof document === 'undefined') return
    const title = to.meta.title ? t(to.meta.title) : ''
    const product = t('app.fullName')
    document.title = title ? `${title} · ${product}` : product
  })
  return router
}

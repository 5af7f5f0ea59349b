import type { RouteLocationNormalized, RouteLocationRaw } from 'vue-router'
import { useUserStore } from '@/stores/user'

/** Only same-app absolute paths are valid `next` targets (no //host, no scheme). */
export function safeNext(next: unknown): string | null {
  const value = Array.isArray(next) ? next[0] : next
  if (typeof value !== 'string' || !value.startsWith('/')) return null
  if (value.startsWith('//') || value.startsWith('/\\')) return null
  if (value === '/login' || value.startsWith('/login?') || value.startsWith('/login/')) return null
  return value
}

export function loginLocation(next?: string): RouteLocationRaw {
  return next && next !== '/' ? { name: 'login', query: { next } } : { name: 'login' }
}

/**
 * Global before-guard: loads /auth/me once, sends anonymous users to /login?next=<path>,
 * keeps signed-in users off /login, and checks route permissions (meta.perm).
 */
export async function authGuard(to: RouteLocationNormalized): Promise<true | RouteLocationRaw> {
  const user = useUserStore()
  try {
    await user.fetchMe()
  } catch {
    // Server unreachable: treat as signed out; the login page will show the error on submit.
  }
  if (to.meta.public) {
    if (to.name === 'login' && user.isAuthenticated) return safeNext(to.query.next) ?? { name: 'home' }
    return true
  }
  if (!user.isAuthenticated) return loginLocation(to.fullPath)
  const perm = to.meta.perm
  if (perm && !user.hasPerm(perm)) return { name: 'home' }
  return true
}

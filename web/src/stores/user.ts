import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/client'
import { authApi } from '@/api/auth'
import type { LoginRequest, Me } from '@/api/types'
import { currentLocale, isLocale, setLocale, type AppLocale } from '@/i18n'

export const ADMIN_PERMISSIONS = {
  users: 'accounts.manage_users',
  departments: 'accounts.manage_departments',
  roles: 'accounts.manage_roles',
  audit: 'audit.view',
} as const

export const useUserStore = defineStore('user', () => {
  const me = ref<Me | null>(null)
  /** true once /auth/me has answered (signed in or not). */
  const loaded = ref(false)
  /** The user picked a language on the login page; carry it over to the account after login. */
  const languageChosenBeforeLogin = ref(false)
  let inFlight: Promise<Me | null> | null = null

  const isAuthenticated = computed(() => me.value !== null)
  const displayName = computed(() => me.value?.full_name || me.value?.username || '')

  function hasPerm(code: string): boolean {
    const u = me.value
    return !!u && (u.is_superuser || u.permissions.includes(code))
  }

  function setMe(value: Me | null, options: { applyLanguage?: boolean } = {}): void {
    me.value = value
    loaded.value = true
    if (value && options.applyLanguage !== false && isLocale(value.language) && value.language !== currentLocale()) {
      setLocale(value.language)
    }
  }

  /** Load the current user once; later calls reuse the answer unless force is set. */
  async function fetchMe(force = false): Promise<Me | null> {
    if (loaded.value && !force) return me.value
    if (inFlight) return inFlight
    inFlight = authApi
      .me()
      .then((value) => {
        setMe(value)
        return value
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) {
          setMe(null)
          return null
        }
        throw e
      })
      .finally(() => {
        inFlight = null
      })
    return inFlight
  }

  async function login(payload: LoginRequest): Promise<Me> {
    const value = await authApi.login(payload)
    const chosen = currentLocale()
    if (languageChosenBeforeLogin.value && value.language !== chosen) {
      setMe(value, { applyLanguage: false })
      try {
        setMe(await authApi.updateMe({ language: chosen }), { applyLanguage: false })
      } catch {
        /* keep the session; the language just is not saved on the account */
      }
    } else {
      setMe(value)
    }
    languageChosenBeforeLogin.value = false
    return me.value ?? value
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      clear()
    }
  }

  /** Switch the UI language now; save it on the account when signed in. */
  async function changeLanguage(locale: AppLocale): Promise<void> {
    setLocale(locale)
    if (!me.value) {
      languageChosenBeforeLogin.value = true
      return
    }
    setMe(await authApi.updateMe({ language: locale }), { applyLanguage: false })
  }

  function clear(): void {
    me.value = null
    loaded.value = true
  }

  return {
    me,
    loaded,
    languageChosenBeforeLogin,
    isAuthenticated,
    displayName,
    hasPerm,
    setMe,
    fetchMe,
    login,
    logout,
    changeLanguage,
    clear,
  }
})

export type UserStore = ReturnType<typeof useUserStore>

import type { Pinia } from 'pinia'
import type { Router } from 'vue-router'
import { showFailToast } from 'vant'
import { configureApi, type ApiError } from '@/api/client'
import { currentLocale, t } from '@/i18n'
import { loginLocation } from '@/router/guard'
import { useUserStore } from '@/stores/user'

/**
 * Wire the api client to the app: Accept-Language from vue-i18n, server error messages as
 * Vant fail toasts, and on a lost session (401 auth.not_authenticated / auth.session_expired)
 * clear the user store and go to /login?next=<current path>.
 */
export function setupApi(router: Router, pinia: Pinia): void {
  const toast = (error: ApiError) => showFailToast({ message: error.message, wordBreak: 'break-word' })
  configureApi({
    getLocale: currentLocale,
    fallbackMessage: (status) => (status === 0 ? t('common.networkError') : t('common.serverError', { status })),
    onError: toast,
    onUnauthorized: (error) => {
      useUserStore(pinia).clear()
      const current = router.currentRoute.value
      if (current.name === 'login') return
      toast(error)
      void router.replace(loginLocation(current.fullPath))
    },
  })
}

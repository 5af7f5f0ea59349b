import { createI18n } from 'vue-i18n'
import { Locale as VantLocale } from 'vant'
import vantEnUS from 'vant/es/locale/lang/en-US'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import zhCN, { type MessageSchema } from '@/locales/zh-CN'
import enUS from '@/locales/en-US'

export const SUPPORTED_LOCALES = ['zh-CN', 'en-US'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'
export const LOCALE_STORAGE_KEY = 'loandesk.locale'

export function isLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

function readStoredLocale(): AppLocale | null {
  try {
    const v = globalThis.localStorage?.getItem(LOCALE_STORAGE_KEY)
    return isLocale(v) ? v : null
  } catch {
    return null
  }
}

/** zh-CN unless the user picked a language before (kept in localStorage for the login page). */
export function initialLocale(): AppLocale {
  return readStoredLocale() ?? DEFAULT_LOCALE
}

export const messages: Record<AppLocale, MessageSchema> = { 'zh-CN': zhCN, 'en-US': enUS }

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages,
  missingWarn: false,
  fallbackWarn: false,
})

export function currentLocale(): AppLocale {
  const l = i18n.global.locale.value
  return isLocale(l) ? l : DEFAULT_LOCALE
}

/** Switch the UI language immediately: vue-i18n, Vant's own texts, <html lang>, localStorage. */
export function setLocale(locale: AppLocale, options: { persist?: boolean } = {}): void {
  i18n.global.locale.value = locale
  VantLocale.use(locale, locale === 'en-US' ? vantEnUS : vantZhCN)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
  if (options.persist !== false) {
    try {
      globalThis.localStorage?.setItem(LOCALE_STORAGE_KEY, locale)
    } catch {
      /* storage unavailable (private mode): the choice still applies to this page */
    }
  }
}

/** Global translate for code outside components (toasts from the api hooks, guards). */
export function t(key: string, params?: Record<string, unknown>): string {
  return params ? i18n.global.t(key, params) : i18n.global.t(key)
}

// Apply to Vant and <html lang> at load without rewriting storage.
setLocale(initialLocale(), { persist: false })

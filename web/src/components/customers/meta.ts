import { computed, ref, watch } from 'vue'
import { customersApi, type Choice, type CustomerMeta, type Tag } from '@/api/customers'
import { currentLocale, i18n } from '@/i18n'

/**
 * The server's choice lists (labels in the UI language) and the tag list, fetched once per
 * language and shared by every customer screen.
 */
const meta = ref<CustomerMeta>({})
const tags = ref<Tag[]>([])
let metaFor: string | null = null
let metaPromise: Promise<void> | null = null
let tagsPromise: Promise<void> | null = null

function loadMeta(force = false): Promise<void> {
  const locale = currentLocale()
  if (!force && metaFor === locale && metaPromise) return metaPromise
  metaFor = locale
  metaPromise = customersApi
    .meta({ quiet: true })
    .then((m) => {
      if (metaFor === locale) meta.value = m
    })
    .catch(() => {
      metaPromise = null
    })
  return metaPromise
}

function loadTags(force = false): Promise<void> {
  if (!force && tagsPromise) return tagsPromise
  tagsPromise = customersApi
    .tags({ quiet: true })
    .then((list) => {
      tags.value = list
    })
    .catch(() => {
      tagsPromise = null
    })
  return tagsPromise
}

let watching = false

export function useCustomerMeta() {
  if (!watching) {
    watching = true
    watch(
      () => i18n.global.locale.value,
      () => void loadMeta(true),
    )
  }
  void loadMeta()
  void loadTags()

  function choices(group: string): Choice[] {
    return meta.value[group] ?? []
  }
  function label(group: string, value: string | null | undefined): string {
    if (!value) return ''
    return choices(group).find((c) => c.value === value)?.label ?? value
  }
  return {
    meta,
    tags,
    choices,
    label,
    ready: computed(() => Object.keys(meta.value).length > 0),
    reloadTags: () => loadTags(true),
  }
}

/** Reset the shared cache (tests). */
export function resetCustomerMeta(): void {
  meta.value = {}
  tags.value = []
  metaFor = null
  metaPromise = null
  tagsPromise = null
}

import { ref, shallowRef, type Ref } from 'vue'
import type { Page } from '@/api/types'

/**
 * State for a Vant <van-list> fed by a paginated endpoint ({items, count, page, page_size}).
 * reset() starts over (e.g. after a filter change); answers to stale requests are dropped.
 */
/** A page whose total may be unknown (count null) or a lower bound (count_capped). */
type PageLike<T> = Omit<Page<T>, 'count'> & { count: number | null; count_capped?: boolean }

export function usePagedList<T>(fetchPage: (page: number) => Promise<PageLike<T>>) {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const count = ref(0)
  const loading = ref(false)
  const finished = ref(false)
  const error = ref(false)
  const loadedOnce = ref(false)
  let page = 0
  let generation = 0
  let busy = false

  async function load(): Promise<void> {
    if (busy || finished.value) {
      loading.value = busy
      return
    }
    busy = true
    loading.value = true
    error.value = false
    const gen = generation
    try {
      const res = await fetchPage(page + 1)
      if (gen !== generation) return
      page += 1
      items.value = [...items.value, ...res.items]
      count.value = res.count ?? 0
      // An uncounted or capped total cannot end the list; a short page does.
      const exact = res.count !== null && res.count_capped !== true
      finished.value =
        res.items.length === 0 || res.items.length < res.page_size || (exact && items.value.length >= (res.count ?? 0))
      loadedOnce.value = true
    } catch {
      if (gen === generation) error.value = true
    } finally {
      if (gen === generation) {
        busy = false
        loading.value = false
      }
    }
  }

  function reset(): Promise<void> {
    generation += 1
    busy = false
    page = 0
    items.value = []
    count.value = 0
    finished.value = false
    error.value = false
    loadedOnce.value = false
    return load()
  }

  return { items, count, loading, finished, error, loadedOnce, load, reset }
}

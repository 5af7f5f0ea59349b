import { ref, shallowRef, type Ref } from 'vue'
import type { CursorPage } from '@/api/flows'

/**
 * State for a Vant <van-list> fed by a cursor-paginated endpoint ({items, next}).
 * reset() starts over (search, tab change, pull to refresh); answers to stale requests are dropped.
 */
export function useCursorList<T>(fetchPage: (cursor: string | null) => Promise<CursorPage<T>>) {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  const finished = ref(false)
  const error = ref(false)
  const loadedOnce = ref(false)
  let cursor: string | null = null
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
      const res = await fetchPage(cursor)
      if (gen !== generation) return
      items.value = [...items.value, ...res.items]
      cursor = res.next
      finished.value = !res.next || res.items.length === 0
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
    cursor = null
    items.value = []
    finished.value = false
    error.value = false
    loadedOnce.value = false
    return load()
  }

  return { items, loading, finished, error, loadedOnce, load, reset }
}

import { describe, expect, it } from 'vitest'
import type { Page } from '@/api/types'
import { usePagedList } from '@/composables/usePagedList'

function pages(total: number, size: number) {
  const requested: number[] = []
  const fetchPage = async (page: number): Promise<Page<number>> => {
    requested.push(page)
    const start = (page - 1) * size
    const items = Array.from({ length: Math.max(0, Math.min(size, total - start)) }, (_, i) => start + i)
    return { items, count: total, page, page_size: size }
  }
  return { requested, fetchPage }
}

describe('usePagedList', () => {
  it('appends pages until count is reached', async () => {
    const src = pages(5, 2)
    const list = usePagedList(src.fetchPage)
    await list.load()
    await list.load()
    expect(list.finished.value).toBe(false)
    await list.load()
    expect(list.items.value).toEqual([0, 1, 2, 3, 4])
    expect(list.finished.value).toBe(true)
    await list.load()
    expect(src.requested).toEqual([1, 2, 3])
  })

  it('keeps loading past an uncounted or capped total until a short page', async () => {
    for (const shape of [{ count: null }, { count: 3, count_capped: true }]) {
      const requested: number[] = []
      const list = usePagedList(async (page) => {
        requested.push(page)
        const items = page < 3 ? [page * 2, page * 2 + 1] : [page * 2]
        return { items, page, page_size: 2, ...shape }
      })
      await list.load()
      await list.load()
      expect(list.finished.value).toBe(false) // 4 items loaded, more than the capped count 3
      await list.load()
      expect(list.finished.value).toBe(true) // page 3 was short
      expect(list.items.value).toHaveLength(5)
      expect(requested).toEqual([1, 2, 3])
      expect(list.count.value).toBe(shape.count ?? 0)
    }
  })

  it('reset drops stale answers and starts from page 1', async () => {
    let release: () => void = () => {}
    const slow = new Promise<void>((r) => (release = r))
    let call = 0
    const list = usePagedList(async (page): Promise<Page<string>> => {
      call += 1
      if (call === 1) await slow
      return { items: [`call${call}-p${page}`], count: 10, page, page_size: 1 }
    })
    const first = list.load()
    await list.reset()
    release()
    await first
    expect(list.items.value).toEqual(['call2-p1'])
  })

  it('flags errors so the list can offer a retry', async () => {
    const list = usePagedList(async () => {
      throw new Error('boom')
    })
    await list.load()
    expect(list.error.value).toBe(true)
    expect(list.loading.value).toBe(false)
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { TodoItem, TodoPage } from '@/api/customers'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie, type MockRequest } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

function item(id: number): TodoItem {
  return {
    follow_up_id: id,
    customer: { id: id * 10, name: `客户${id}` },
    author: { id: 1, username: 'officer1', full_name: '王小明' },
    kind: 'call',
    content: '回访',
    next_follow_up_at: '2026-11-29T02:00:00Z',
    overdue: false,
  }
}

function pages(total: number, capped: boolean) {
  return (req: MockRequest): { body: TodoPage } => {
    const page = Number(req.url.searchParams.get('page'))
    const size = Number(req.url.searchParams.get('page_size'))
    const first = (page - 1) * size
    const items = Array.from({ length: Math.max(0, Math.min(size, total - first)) }, (_, i) => item(first + i + 1))
    return { body: { items, count: capped ? 100 : total, count_capped: capped, page, page_size: size } }
  }
}

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  setLocale('zh-CN')
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
})

describe('home to-do card', () => {
  it('shows the exact count and how many more there are', async () => {
    mockFetch({ 'GET /auth/me': { body: makeMe() }, 'GET /customers/follow-ups/todo': pages(7, false) })
    wrapper = (await mountApp('/')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="home-todo-count"]').exists())
    expect(wrapper.find('[data-testid="home-todo-count"]').text()).toBe('7')
    expect(wrapper.find('[data-testid="home-todo-more"]').text()).toBe('再看 2 条')
    await wrapper.find('[data-testid="home-todo-more"]').trigger('click')
    await settle()
    expect(wrapper.findAll('[data-testid^="home-todo-"][href]').length).toBe(7)
    expect(wrapper.find('[data-testid="home-todo-more"]').exists()).toBe(false)
  })

  it('says 99+ above the server’s cap and pages on while pages come back full', async () => {
    const { calls } = mockFetch({ 'GET /auth/me': { body: makeMe() }, 'GET /customers/follow-ups/todo': pages(12, true) })
    wrapper = (await mountApp('/')).wrapper
    await waitFor(() => wrapper!.find('[data-testid="home-todo-count"]').exists())
    expect(wrapper.find('[data-testid="home-todo-count"]').text()).toBe('99+')
    const more = () => wrapper!.find('[data-testid="home-todo-more"]')
    expect(more().text()).toBe('再看更多')
    await more().trigger('click')
    await settle()
    await more().trigger('click')
    await settle()
    // The third page held 2 of 5: nothing more to ask for.
    expect(wrapper.findAll('[data-testid^="home-todo-"][href]').length).toBe(12)
    expect(more().exists()).toBe(false)
    expect(calls.filter((c) => c.path === '/customers/follow-ups/todo').map((c) => c.url.searchParams.get('page'))).toEqual(['1', '2', '3'])
  })
})

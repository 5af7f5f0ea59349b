import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import type { Router } from 'vue-router'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Message } from '@/api/notify'
import { resetInboxCounts } from '@/components/flows/inboxCounts'
import { messageTime, safeLink } from '@/components/notify/helpers'
import { resetUnreadCount, unreadCount } from '@/components/notify/unreadCount'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, waitFor as waitForShort } from './mount'

/** Lazy route chunks compile on first use: poll generously (a load ceiling, not a timing check). */
const waitFor = (check: () => boolean) => waitForShort(check, 10000)

let wrapper: VueWrapper | undefined

beforeEach(() => {
  clearCookies()
  setCookie('csrftoken', 'tok')
  resetCsrfState()
  resetInboxCounts()
  resetUnreadCount()
  setLocale('zh-CN', { persist: false })
  configureApi({ getLocale: currentLocale, onError: undefined, onUnauthorized: undefined })
})
afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
})

const tid = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)
const manager = makeMe({ id: 3, username: 'manager', full_name: '李经理' })
const counts = { todo: 1, done: 0, cc_unread: 0, mine_running: 0 }

function msg(id: number, unread: boolean, extra: Partial<Message> = {}): Message {
  return {
    id,
    kind: 'task',
    title: `王小明 的贷款申请待你审批 ${id}`,
    body: '客户 · 个人消费贷 · 业务经理初审',
    link: `/approvals/${id + 100}`,
    created_at: new Date(Date.now() - 5 * 60 * 1000).toISOString(),
    read_at: unread ? null : new Date().toISOString(),
    unread,
    ...extra,
  }
}

describe('消息 tab', { timeout: 20000 }, () => {
  it('lists messages with unread dots and the tab badge; tapping marks read and opens the link', async () => {
    let unread = 2
    const { calls } = mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /notify/unread-count': () => ({ body: { unread } }),
      'GET /notify/messages': { body: { items: [msg(1, true), msg(2, true), msg(3, false)], next: null } },
      'POST /notify/messages/1/read': () => {
        unread -= 1
        return { body: msg(1, false) }
      },
    })
    ;({ wrapper } = await mountApp('/messages'))
    await waitFor(() => tid(wrapper!, 'message-1').exists())
    expect(tid(wrapper, 'message-1').find('[data-testid="message-unread-dot"]').exists()).toBe(true)
    expect(tid(wrapper, 'message-3').find('[data-testid="message-unread-dot"]').exists()).toBe(false)
    expect(tid(wrapper, 'message-1').text()).toContain('5 分钟前')
    await waitFor(() => tid(wrapper!, 'tab-messages').find('.van-badge').exists())
    expect(tid(wrapper, 'tab-messages').find('.van-badge').text()).toBe('2')

    const router = (wrapper.vm as unknown as { $router: Router }).$router
    await tid(wrapper, 'message-1').trigger('click')
    await waitFor(() => router.currentRoute.value.fullPath === '/approvals/101')
    expect(calls.some((c) => c.method === 'POST' && c.path === '/notify/messages/1/read')).toBe(true)
    await waitFor(() => unreadCount.value === 1)
  })

  it('a read message opens without another read call', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /notify/unread-count': { body: { unread: 0 } },
      'GET /notify/messages': { body: { items: [msg(3, false)], next: null } },
    })
    ;({ wrapper } = await mountApp('/messages'))
    await waitFor(() => tid(wrapper!, 'message-3').exists())
    expect(tid(wrapper, 'tab-messages').find('.van-badge').exists()).toBe(false)
    const router = (wrapper.vm as unknown as { $router: Router }).$router
    await tid(wrapper, 'message-3').trigger('click')
    await waitFor(() => router.currentRoute.value.fullPath === '/approvals/103')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
  })

  it('全部已读 clears every dot and the badge', async () => {
    let unread = 2
    mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /notify/unread-count': () => ({ body: { unread } }),
      'GET /notify/messages': { body: { items: [msg(1, true), msg(2, true)], next: null } },
      'POST /notify/messages/read-all': () => {
        unread = 0
        return { body: { updated: 2, unread: 0 } }
      },
    })
    ;({ wrapper } = await mountApp('/messages'))
    await waitFor(() => tid(wrapper!, 'message-2').exists())
    await waitFor(() => tid(wrapper!, 'tab-messages').find('.van-badge').exists())
    await tid(wrapper, 'messages-read-all').trigger('click')
    await waitFor(() => wrapper!.findAll('[data-testid="message-unread-dot"]').length === 0)
    await waitFor(() => !tid(wrapper!, 'tab-messages').find('.van-badge').exists())
  })

  it('loads the next page with the cursor', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /notify/unread-count': { body: { unread: 0 } },
      'GET /notify/messages': (req) =>
        req.url.searchParams.get('cursor') === '5'
          ? { body: { items: [msg(4, false)], next: null } }
          : { body: { items: [msg(6, false), msg(5, false)], next: '5' } },
    })
    ;({ wrapper } = await mountApp('/messages'))
    await waitFor(() => tid(wrapper!, 'message-5').exists())
    // the list's infinite scroll asks for more (jsdom has no layout to scroll)
    wrapper.findComponent({ name: 'van-list' }).vm.$emit('load')
    await waitFor(() => tid(wrapper!, 'message-4').exists())
    expect(calls.filter((c) => c.path === '/notify/messages').map((c) => c.url.searchParams.get('cursor'))).toEqual([
      null,
      '5',
    ])
  })

  it('shows the empty state', async () => {
    mockFetch({
      'GET /auth/me': { body: manager },
      'GET /flows/inbox/counts': { body: counts },
      'GET /notify/unread-count': { body: { unread: 0 } },
      'GET /notify/messages': { body: { items: [], next: null } },
    })
    ;({ wrapper } = await mountApp('/messages'))
    await waitFor(() => tid(wrapper!, 'messages-empty').exists())
    expect(tid(wrapper, 'messages-empty').text()).toContain('暂无消息')
  })
})

describe('message helpers', () => {
  it('says when a message arrived', () => {
    const now = new Date('2026-11-28T08:00:00Z')
    expect(messageTime('2026-11-28T07:59:30Z', now)).toBe('刚刚')
    expect(messageTime('2026-11-28T07:30:00Z', now)).toBe('30 分钟前')
    expect(messageTime('2026-11-28T05:00:00Z', now)).toBe('3 小时前')
    expect(messageTime('2026-11-26T08:00:00Z', now)).toBe('2 天前')
    expect(messageTime('2026-10-01T08:00:00Z', now)).toContain('10')
  })

  it('follows only in-app links', () => {
    expect(safeLink('/approvals/12')).toBe('/approvals/12')
    expect(safeLink('//evil.example/x')).toBeNull()
    expect(safeLink('https://evil.example')).toBeNull()
    expect(safeLink('')).toBeNull()
  })
})

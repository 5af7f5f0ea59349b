import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { expandRange, groupByMonth, mergeDays, type CalendarYear } from '@/api/calendar'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const admin = makeMe({ permissions: ['lending.manage_calendar'], business_date: '2026-11-28' })
const y2025: CalendarYear = {
  year: 2025,
  source: 'chinese_calendar',
  holidays: [
    { date: '2025-01-01', name: "New Year's Day" },
    { date: '2025-10-01', name: 'National Day' },
  ],
  workdays: [{ date: '2025-09-28', name: 'National Day' }],
}
const y2026: CalendarYear = {
  year: 2026,
  source: 'admin',
  holidays: [{ date: '2026-10-01', name: '国庆节' }],
  workdays: [],
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

const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)
async function click(el: Element | null | undefined): Promise<void> {
  expect(el, 'element to click').toBeTruthy()
  ;(el as HTMLElement).click()
  await settle()
}
async function fill(id: string, value: string): Promise<void> {
  const input = document.querySelector<HTMLInputElement>(`input[data-testid="${id}"]`)
  expect(input, id).toBeTruthy()
  input!.value = value
  input!.dispatchEvent(new Event('input'))
  await settle()
}
/** A selectable day of the calendar's current month by its day number. */
function day(n: number): HTMLElement | undefined {
  return [...document.querySelectorAll<HTMLElement>('[data-testid="holiday-calendar"] [role="gridcell"]')].find(
    (el) => new RegExp(`^${n}(\\D|$)`).test(el.textContent?.trim() ?? ''),
  )
}

describe('holiday calendar helpers', () => {
  it('expands a range into every day, across months and leap days, in either order', () => {
    expect(expandRange('2027-02-06', '2027-02-12')).toEqual([
      '2027-02-06',
      '2027-02-07',
      '2027-02-08',
      '2027-02-09',
      '2027-02-10',
      '2027-02-11',
      '2027-02-12',
    ])
    expect(expandRange('2028-03-01', '2028-02-28')).toEqual(['2028-02-28', '2028-02-29', '2028-03-01'])
    expect(expandRange('2027-01-31', '2027-01-31')).toEqual(['2027-01-31'])
    expect(expandRange('bad', '2027-01-01')).toEqual([])
  })

  it('merges days without duplicates and groups them by month', () => {
    const merged = mergeDays([{ date: '2027-02-07', name: 'x' }], ['2027-02-08', '2027-02-07', '2027-01-01'], '春节')
    expect(merged).toEqual([
      { date: '2027-01-01', name: '春节' },
      { date: '2027-02-07', name: '春节' },
      { date: '2027-02-08', name: '春节' },
    ])
    expect(groupByMonth(merged).map((g) => [g.month, g.days.length])).toEqual([
      [1, 1],
      [2, 2],
    ])
  })
})

describe('holiday calendar page', () => {
  it('lists years newest first with source and counts, and opens a new year', async () => {
    mockFetch({
      'GET /auth/me': { body: admin },
      'GET /lending/calendar/years': { body: [y2025, y2026] },
    })
    const app = await mountApp('/manage/holidays')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="holiday-year-2026"]').exists())
    const rows = wrapper.findAll('[data-testid^="holiday-year-"]').map((r) => r.attributes('data-testid'))
    expect(rows).toEqual(['holiday-year-2026', 'holiday-year-2025'])
    const r2026 = wrapper.find('[data-testid="holiday-year-2026"]').text()
    expect(r2026).toContain('2026 年')
    expect(r2026).toContain('管理员录入')
    expect(r2026).toContain('节假日 1 天 · 调休上班 0 天')
    const r2025 = wrapper.find('[data-testid="holiday-year-2025"]').text()
    expect(r2025).toContain('内置')
    expect(r2025).toContain('节假日 2 天 · 调休上班 1 天')
    expect(wrapper.find('[data-testid="holidays-intro"]').text()).toContain('只按周末计算')
    // 2027 (the next business year) is not there yet.
    expect(wrapper.find('[data-testid="holidays-missing-2027"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="holidays-missing-2026"]').exists()).toBe(false)

    await click(byTestId('holiday-new-year'))
    const input = document.querySelector<HTMLInputElement>('input[data-testid="holiday-new-year-input"]')
    expect(input?.value).toBe('2027')
    await fill('holiday-new-year-input', '99')
    await click(document.querySelector('.van-dialog__confirm'))
    expect(document.body.textContent).toContain('请输入 2000 至 2099 之间的年份')
    await fill('holiday-new-year-input', '2027')
    await click(document.querySelector('.van-dialog__confirm'))
    await waitFor(() => app.router.currentRoute.value.fullPath === '/manage/holidays/2027')
  })

  it('enters a new year: single day, a range expanded into days, a workday; PUTs the lists', async () => {
    let saved: CalendarYear | null = null
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /lending/calendar/years': () => ({ body: saved ? [y2026, saved] : [y2026] }),
      'PUT /lending/calendar/years/2027': (req) => {
        saved = { year: 2027, source: 'admin', ...(req.body as Omit<CalendarYear, 'year' | 'source'>) }
        return { body: saved }
      },
    })
    const app = await mountApp('/manage/holidays/2027')
    wrapper = app.wrapper
    await waitFor(() => !!byTestId('holiday-add-holiday'))
    expect(byTestId('holiday-source')?.textContent).toContain('未保存')
    expect(byTestId('holiday-delete')).toBeNull()

    // 元旦: one day.
    await click(byTestId('holiday-add-holiday'))
    await click(day(1))
    expect(document.querySelector<HTMLInputElement>('input[data-testid="holiday-date"]')?.value).toBe('2027-01-01 周五')
    await click(byTestId('holiday-sheet-add'))
    expect(document.body.textContent).toContain('请填写名称')
    await fill('holiday-name', '元旦')
    await click(byTestId('holiday-sheet-add'))
    expect(byTestId('holiday-day-holidays-2027-01-01')?.textContent).toContain('元旦')

    // 春节: 02-06 … 02-12, every day with the same name.
    await click(byTestId('holiday-add-holiday'))
    await click(byTestId('holiday-mode-range'))
    await click(byTestId('holiday-calendar-next'))
    await click(day(6))
    await click(day(12))
    expect(document.querySelector<HTMLInputElement>('input[data-testid="holiday-date"]')?.value).toBe(
      '2027-02-06 至 2027-02-12，共 7 天',
    )
    await click(byTestId('holiday-name-chip-1')) // 春节
    expect(byTestId('holiday-sheet-add')?.textContent).toContain('添加 7 天')
    await click(byTestId('holiday-sheet-add'))
    expect(byTestId('holiday-count-holidays')?.textContent).toContain('8 天')
    for (const d of expandRange('2027-02-06', '2027-02-12')) {
      expect(byTestId(`holiday-day-holidays-${d}`)?.textContent).toContain('春节')
    }

    // A make-up workday: the sheet opens on February; a holiday cannot also be a workday.
    await click(byTestId('holiday-add-workday'))
    await click(day(7))
    await click(byTestId('holiday-name-chip-1')) // 春节调休
    await click(byTestId('holiday-sheet-add'))
    expect(document.body.textContent).toContain('2027-02-07 已在另一个列表中')
    await click(day(20))
    await click(byTestId('holiday-sheet-add'))
    expect(byTestId('holiday-day-workdays-2027-02-20')?.textContent).toContain('春节调休')

    // Remove one Spring Festival day and put it back.
    await click(byTestId('holiday-remove-holidays-2027-02-12'))
    expect(byTestId('holiday-count-holidays')?.textContent).toContain('7 天')
    await click(byTestId('holiday-add-holiday'))
    await click(day(12))
    await fill('holiday-name', '春节')
    await click(byTestId('holiday-sheet-add'))

    await click(byTestId('holiday-save'))
    await waitFor(() => app.router.currentRoute.value.fullPath === '/manage/holidays')
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.path).toBe('/lending/calendar/years/2027')
    expect(put?.headers.get('X-CSRFToken')).toBe('tok')
    expect(put?.body).toEqual({
      holidays: [
        { date: '2027-01-01', name: '元旦' },
        ...expandRange('2027-02-06', '2027-02-12').map((date) => ({ date, name: '春节' })),
      ],
      workdays: [{ date: '2027-02-20', name: '春节调休' }],
    })
    await waitFor(() => !!byTestId('holiday-year-2027'))
    expect(byTestId('holiday-year-2027')?.textContent).toContain('节假日 8 天 · 调休上班 1 天')
  })

  it("shows the server's 422 field messages", async () => {
    mockFetch({
      'GET /auth/me': { body: admin },
      'GET /lending/calendar/years': { body: [y2025, y2026] },
      'PUT /lending/calendar/years/2026': apiError(422, 'validation_error', '输入有误', {
        fields: { holidays: '2027-01-01 ∉ 2026', workdays: '2026-10-01' },
      }),
    })
    const app = await mountApp('/manage/holidays/2026')
    wrapper = app.wrapper
    await waitFor(() => !!byTestId('holiday-save'))
    expect(byTestId('holiday-source')?.textContent).toContain('管理员录入')
    await click(byTestId('holiday-save'))
    await waitFor(() => !!byTestId('holiday-error-holidays'))
    expect(byTestId('holiday-error-holidays')?.textContent).toContain('2027-01-01 ∉ 2026')
    expect(byTestId('holiday-error-workdays')?.textContent).toContain('2026-10-01')
    expect(app.router.currentRoute.value.fullPath).toBe('/manage/holidays/2026')
  })

  it('deletes a year after confirmation', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /lending/calendar/years': { body: [y2025, y2026] },
      'DELETE /lending/calendar/years/2025': { status: 204 },
    })
    const app = await mountApp('/manage/holidays/2025')
    wrapper = app.wrapper
    await waitFor(() => !!byTestId('holiday-delete'))
    expect(byTestId('holiday-day-holidays-2025-10-01')?.textContent).toContain('National Day')
    await click(byTestId('holiday-delete'))
    await waitFor(() => !!document.querySelector('.van-dialog__confirm'))
    expect(document.body.textContent).toContain('删除 2025 年的节假日数据？')
    await click(document.querySelector('.van-dialog__confirm'))
    await waitFor(() => app.router.currentRoute.value.fullPath === '/manage/holidays')
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/lending/calendar/years/2025')).toBe(true)
  })
})

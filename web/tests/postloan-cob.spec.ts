import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import { bucketProblem, chainBuckets, isActive, type CobOverview, type CobRun } from '@/api/postloan'
import { currentLocale, setLocale } from '@/i18n'
import { clearCookies, makeMe, mockFetch, setCookie } from './helpers'
import { mountApp, settle, waitFor } from './mount'

let wrapper: VueWrapper | undefined

const admin = makeMe({ permissions: ['postloan.run_cob', 'postloan.manage_settings'], business_date: '2026-11-20' })
const steps = ['installments', 'loans', 'penalty', 'reminders', 'snapshot'] as const
const done: CobRun = {
  id: 1,
  business_date: '2026-11-19',
  status: 'done',
  trigger: 'api',
  workers: 1,
  attempts: 1,
  created_at: '2026-11-20T00:30:00Z',
  started_at: '2026-11-20T00:30:00Z',
  finished_at: '2026-11-20T00:30:02Z',
  error: '',
  steps: steps.map((step) => ({
    step,
    status: 'done',
    partitions: 1,
    done: 1,
    failed: 0,
    rows: 3,
    started_at: null,
    finished_at: null,
  })),
}
const overview: CobOverview = { business_date: '2026-11-20', next_date: '2026-11-20', running: false, runs: [done] }
const settings = {
  buckets: [
    { code: 'M0', min_dpd: 0, max_dpd: 0 },
    { code: 'M1', min_dpd: 1, max_dpd: 30 },
    { code: 'M1+', min_dpd: 31, max_dpd: null },
  ],
  thresholds: [
    { classification: 'normal', min_dpd: 0 },
    { classification: 'special_mention', min_dpd: 1 },
    { classification: 'substandard', min_dpd: 91 },
    { classification: 'doubtful', min_dpd: 181 },
    { classification: 'loss', min_dpd: 361 },
  ],
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

describe('bucket helpers', () => {
  it('finds the first bucket that breaks the chain', () => {
    expect(bucketProblem(settings.buckets)).toBe(-1)
    expect(bucketProblem([])).toBe(0)
    expect(bucketProblem([{ code: 'M0', min_dpd: 0, max_dpd: 0 }, { code: 'X', min_dpd: 2, max_dpd: null }])).toBe(1)
    expect(bucketProblem([{ code: 'M0', min_dpd: 0, max_dpd: 5 }, { code: 'X', min_dpd: 6, max_dpd: null }])).toBe(0)
    expect(bucketProblem([{ code: 'M0', min_dpd: 0, max_dpd: 0 }, { code: 'X', min_dpd: 1, max_dpd: 9 }])).toBe(1)
  })

  it('chains minimums after maximums and keeps the last bucket open', () => {
    const chained = chainBuckets([
      { code: 'M0', min_dpd: 0, max_dpd: 0 },
      { code: 'M1', min_dpd: 7, max_dpd: 15 },
      { code: 'M2', min_dpd: 3, max_dpd: 40 },
    ])
    expect(chained.map((b) => [b.min_dpd, b.max_dpd])).toEqual([
      [0, 0],
      [1, 15],
      [16, null],
    ])
    expect(bucketProblem(chained)).toBe(-1)
  })

  it('treats queued and running runs as active', () => {
    expect(isActive(overview)).toBe(false)
    expect(isActive({ ...overview, runs: [{ ...done, status: 'queued' }] })).toBe(true)
    expect(isActive(null)).toBe(false)
  })
})

describe('COB page', () => {
  it('shows the business date and steps, and runs now after a confirmation', async () => {
    let current = overview
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /postloan/cob': () => ({ body: current }),
      'GET /postloan/settings': { body: settings },
      'POST /postloan/cob/runs': () => {
        current = {
          ...overview,
          business_date: '2026-11-21',
          next_date: '2026-11-21',
          runs: [{ ...done, id: 2, business_date: '2026-11-20' }, done],
        }
        return { status: 202, body: { ...done, id: 2, business_date: '2026-11-20', status: 'queued' } }
      },
    })
    const app = await mountApp('/manage/cob')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="cob-business-date"]').exists())
    expect(wrapper.find('[data-testid="cob-business-date"]').text()).toContain('2026-11-20')
    const step = wrapper.find('[data-testid="cob-step-2026-11-19-loans"]').text()
    expect(step).toContain('逾期天数、分档与五级分类')
    expect(step).toContain('已完成')
    expect(wrapper.find('[data-testid="cob-run-status-2026-11-19"]').text()).toBe('已完成')
    expect(wrapper.findAll('[data-testid^="cob-bucket-"]')).toHaveLength(3)

    ;(document.querySelector('[data-testid="cob-run-now"]') as HTMLElement).click()
    await settle()
    expect(document.body.textContent).toContain('对 2026-11-20 执行日终批处理')
    ;(document.querySelector('.van-dialog__confirm') as HTMLElement).click()
    await settle()
    const post = calls.find((c) => c.method === 'POST')
    expect(post?.path).toBe('/postloan/cob/runs')
    expect(post?.body).toEqual({})
    await waitFor(() => wrapper!.find('[data-testid="cob-business-date"]').text().includes('2026-11-21'))
  })

  it('saves thresholds as numbers', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: admin },
      'GET /postloan/cob': { body: overview },
      'GET /postloan/settings': { body: settings },
      'PUT /postloan/settings/thresholds': (req) => ({
        body: { ...settings, thresholds: (req.body as { thresholds: unknown }).thresholds },
      }),
    })
    const app = await mountApp('/manage/cob')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="cob-save-thresholds"]').exists())
    await wrapper.find('[data-testid="cob-save-thresholds"]').trigger('click')
    await settle()
    const put = calls.find((c) => c.method === 'PUT')
    expect((put?.body as { thresholds: unknown[] }).thresholds[2]).toEqual({ classification: 'substandard', min_dpd: 91 })
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import { configureApi, resetCsrfState } from '@/api/client'
import type { Factor, Scorecard } from '@/api/risk'
import { currentLocale, setLocale } from '@/i18n'
import { apiError, clearCookies, makeMe, mockFetch, setCookie } from '../helpers'
import { mountApp, settle, waitFor } from '../mount'
// Loaded while collecting (not inside the first test): the route imports it lazily.
import '@/views/risk/ScorecardEditView.vue'

let wrapper: VueWrapper | undefined

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
})

const risk = makeMe({ username: 'risk', permissions: ['risk.manage_scorecards'] })
const FACTORS: Factor[] = [
  { code: 'age', label: '年龄', label_en: 'Age', kind: 'number', unit: 'years', choices: [] },
]
const CARD: Scorecard = {
  code: 'default',
  name: '默认个人贷款评分卡',
  description: '',
  is_active: true,
  version: 4,
  rule_count: 1,
  updated_at: '2026-11-28T03:00:00Z',
  updated_by: '孙风控',
  definition: {
    base_score: 600,
    rules: [
      {
        code: 'age',
        label: '年龄',
        factor: 'age',
        bands: [
          { min: null, max: '30', points: 10, reason: '年轻' },
          { min: '30', max: null, points: 20, reason: '成熟' },
        ],
      },
    ],
    grades: [
      { grade: 'A', min: 620, decision: 'approve' },
      { grade: 'B', min: null, decision: 'review' },
    ],
  },
}

const input = (id: string) => wrapper!.find<HTMLInputElement>(`input[data-testid="${id}"]`)

describe('ScorecardEditView', () => {
  it('saves the edited definition with the loaded version and shows errors on the band', async () => {
    let saves = 0
    const { calls } = mockFetch({
      'GET /auth/me': { body: risk },
      'GET /risk/scorecards/default': { body: CARD },
      'GET /risk/factors': { body: FACTORS },
      'PATCH /risk/scorecards/default': () => {
        saves += 1
        return saves === 1
          ? apiError(422, 'risk.scorecard_invalid', '评分卡配置有误', {
              fields: { 'definition.rules.0.bands.1.min': '与第 1 档之间有空档(下限应为 30)' },
            })
          : { body: { ...CARD, version: 5 } }
      },
    })
    const app = await mountApp('/manage/scorecards/default')
    wrapper = app.wrapper
    await waitFor(() => wrapper!.find('[data-testid="rule-0"]').exists())
    await wrapper.find('[data-testid="rule-0"] .van-collapse-item__title').trigger('click')
    await settle()
    await input('rule-0-band-1-min').setValue('31')
    await input('rule-0-band-0-points').setValue('15')
    await wrapper.find('[data-testid="scorecard-form"]').trigger('submit')
    await settle()

    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toMatchObject({ name: '默认个人贷款评分卡', version: 4, is_active: true })
    const body = patch.body as { definition: Scorecard['definition'] }
    expect(body.definition.rules[0]!.bands).toEqual([
      { min: null, max: '30', points: 15, reason: '年轻' },
      { min: '31', max: null, points: 20, reason: '成熟' },
    ])
    expect(body.definition.grades[1]).toEqual({ grade: 'B', min: null, decision: 'review' })
    expect(wrapper.find('[data-testid="rule-0-band-1"]').text()).toContain('与第 1 档之间有空档(下限应为 30)')
    expect(wrapper.find('[data-testid="rule-0"]').classes()).toContain('is-error')

    await input('rule-0-band-1-min').setValue('30')
    await wrapper.find('[data-testid="scorecard-form"]').trigger('submit')
    await settle()
    expect(saves).toBe(2)
    expect(wrapper.find('[data-testid="rule-0"]').classes()).not.toContain('is-error')
  })

  it('previews the unsaved edits and shows the result card', async () => {
    const { calls } = mockFetch({
      'GET /auth/me': { body: risk },
      'GET /risk/scorecards/default': { body: CARD },
      'GET /risk/factors': { body: FACTORS },
      'POST /risk/scorecards/default/preview': {
        body: {
          scorecard: 'default',
          version: 4,
          score: 620,
          grade: 'A',
          decision: 'approve',
          decision_label: '建议通过',
          reasons: [{ code: 'age', label: '年龄', points: 20, detail: '成熟(35 岁)' }],
          factors: { age: '35' },
          evaluated_at: '2026-11-28T03:00:00+00:00',
        },
      },
    })
    const app = await mountApp('/manage/scorecards/default')
    wrapper = app.wrapper
    await waitFor(() => input('preview-age').exists())
    await input('preview-age').setValue('35')
    await wrapper.find('[data-testid="preview-run"]').trigger('click')
    await settle()
    const post = calls.find((c) => c.method === 'POST' && c.path.endsWith('/preview'))!
    expect(post.body).toMatchObject({ age: '35', credit_level: 'B', blacklisted: false, amount: '100000' })
    expect((post.body as { definition: unknown }).definition).toEqual(CARD.definition)
    expect(wrapper.find('[data-testid="risk-score"]').text()).toBe('620')
    expect(wrapper.find('[data-testid="risk-decision"]').text()).toBe('建议通过')
  })
})

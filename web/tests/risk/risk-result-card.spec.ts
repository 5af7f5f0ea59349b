import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import type { RiskResult } from '@/api/risk'
import RiskResultCard from '@/components/risk/RiskResultCard.vue'
import { i18n, setLocale } from '@/i18n'
import { vantPlugin } from '@/plugins/vant'

const RESULT: RiskResult = {
  scorecard: 'default',
  version: 3,
  score: 545,
  grade: 'C',
  decision: 'review',
  decision_label: '人工复核',
  reasons: [
    { code: 'age', label: '年龄', points: 40, detail: '年龄适中,收入稳定(40 岁)' },
    { code: 'debt_to_income', label: '月供收入比', points: -60, detail: '月供负担较重(55.00%)' },
    { code: 'blacklist', label: '黑名单', points: 0, detail: '未命中黑名单(否)' },
  ],
  factors: { age: '40', debt_to_income: '55.00', blacklisted: 'no' },
  evaluated_at: '2026-03-01T02:00:00+00:00',
}

describe('RiskResultCard', () => {
  it('shows score, grade, decision and the reasons with signed points', () => {
    setLocale('zh-CN')
    const wrapper = mount(RiskResultCard, { props: { result: RESULT }, global: { plugins: [i18n, vantPlugin] } })
    expect(wrapper.get('[data-testid="risk-score"]').text()).toBe('545')
    expect(wrapper.get('[data-testid="risk-grade"]').text()).toBe('C')
    expect(wrapper.get('[data-testid="risk-grade"]').classes()).toContain('risk-card__grade--review')
    expect(wrapper.get('[data-testid="risk-decision"]').text()).toBe('人工复核')
    const age = wrapper.get('[data-testid="risk-reason-age"]').text()
    expect(age).toContain('年龄适中')
    expect(age).toContain('+40 分')
    expect(wrapper.get('[data-testid="risk-reason-debt_to_income"]').text()).toContain('-60 分')
    expect(wrapper.get('[data-testid="risk-reason-blacklist"]').text()).toContain('0 分')
    expect(wrapper.text()).toContain('default · 第 3 版')
  })

  it('falls back to the translated decision when the label is empty', () => {
    setLocale('en-US')
    const wrapper = mount(RiskResultCard, {
      props: { result: { ...RESULT, decision: 'reject', decision_label: '' } },
      global: { plugins: [i18n, vantPlugin] },
    })
    expect(wrapper.get('[data-testid="risk-decision"]').text()).toBe('Reject')
    expect(wrapper.text()).toContain('+40 pts')
    setLocale('zh-CN')
  })
})

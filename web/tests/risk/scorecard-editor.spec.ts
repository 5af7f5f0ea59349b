import { describe, expect, it } from 'vitest'
import type { Factor, ScorecardDefinition } from '@/api/risk'
import {
  appendBand,
  at,
  bound,
  changeFactor,
  definitionErrors,
  firstRuleWithError,
  intOrText,
  move,
  newRule,
  rangeText,
  ruleMessages,
  toDefinition,
  toForm,
  uniqueCode,
} from '@/views/risk/scorecardEditor'

const FACTORS: Factor[] = [
  { code: 'age', label: '年龄', label_en: 'Age', kind: 'number', unit: 'years', choices: [] },
  {
    code: 'credit_level',
    label: '信用等级',
    label_en: 'Credit level',
    kind: 'choice',
    unit: '',
    choices: ['A', 'B', 'C', 'watch', 'blacklist', 'none'],
  },
]

const DEF: ScorecardDefinition = {
  base_score: 600,
  rules: [
    {
      code: 'age',
      label: '年龄',
      label_en: 'Age',
      factor: 'age',
      bands: [
        { min: null, max: '18', points: 0, reason: '未成年', force: 'reject' },
        { min: '18', max: null, points: 20, reason: '成年', reason_en: 'Adult' },
      ],
      missing: { points: -20, reason: '无法确定年龄', force: 'review' },
    },
    {
      code: 'level',
      label: '信用等级',
      factor: 'credit_level',
      bands: [{ values: ['A', 'B'], points: 40, reason: '良好' }],
    },
  ],
  grades: [
    { grade: 'A', min: 650, decision: 'approve' },
    { grade: 'B', min: null, decision: 'review' },
  ],
}

describe('scorecard editor helpers', () => {
  it('round-trips a definition through the form', () => {
    const form = toForm(DEF)
    expect(form.base_score).toBe('600')
    expect(form.rules[0]!.bands[0]).toMatchObject({ min: '', max: '18', points: '0', force: 'reject' })
    expect(form.rules[0]!.missing_points).toBe('-20')
    expect(toDefinition(form, FACTORS)).toEqual(DEF)
  })

  it('sends whole numbers as numbers, other text as typed, empty bounds as null', () => {
    expect(intOrText(' 12 ')).toBe(12)
    expect(intOrText('-5')).toBe(-5)
    expect(intOrText('1.5')).toBe('1.5')
    expect(intOrText('abc')).toBe('abc')
    expect(bound('')).toBeNull()
    expect(bound(' 200,000 ')).toBe('200000')
    const form = toForm(DEF)
    form.rules[0]!.bands[1]!.points = '35'
    form.grades[0]!.min = '700'
    form.grades[1]!.min = '999' // the last grade is always the open catch-all
    const def = toDefinition(form, FACTORS)
    expect(def.rules[0]!.bands[1]!.points).toBe(35)
    expect(def.grades).toEqual([
      { grade: 'A', min: 700, decision: 'approve' },
      { grade: 'B', min: null, decision: 'review' },
    ])
  })

  it('a new band starts where the last one ends', () => {
    const form = toForm(DEF)
    const rule = form.rules[0]!
    rule.bands[1]!.max = '60'
    const band = appendBand(rule)
    expect(band.min).toBe('60')
    expect(rule.bands).toHaveLength(3)
  })

  it('new rules get unique codes from their factor', () => {
    expect(uniqueCode('age', ['age', 'age_2'])).toBe('age_3')
    expect(uniqueCode('Debt-Ratio', [])).toBe('debt_ratio')
    expect(uniqueCode('123', [])).toBe('rule')
    const rule = newRule(FACTORS[0]!, ['age'])
    expect(rule).toMatchObject({ code: 'age_2', label: '年龄', factor: 'age' })
    expect(rule.bands).toHaveLength(1)
  })

  it('changing the factor kind resets the bands, same kind keeps valid values', () => {
    const form = toForm(DEF)
    const level = form.rules[1]!
    changeFactor(level, FACTORS[1], FACTORS[0]!)
    expect(level.bands[0]).toMatchObject({ values: [], min: '', max: '' })
    const other: Factor = { ...FACTORS[1]!, code: 'blacklisted', choices: ['yes', 'no', 'A'] }
    const again = toForm(DEF).rules[1]!
    changeFactor(again, FACTORS[1], other)
    expect(again.bands[0]!.values).toEqual(['A'])
    expect(again.factor).toBe('blacklisted')
  })

  it('maps the server paths to rules and bands', () => {
    const errors = definitionErrors({
      name: '名称不能为空',
      'definition.rules.2.bands.1.min': '与第 1 档之间有空档',
      'definition.rules.0.factor': '请选择有效的评分因子',
      'definition.rules.12.code': '重复',
      'definition.grades': '请至少设置一个等级',
    })
    expect(errors).toEqual({
      name: '名称不能为空',
      'rules.2.bands.1.min': '与第 1 档之间有空档',
      'rules.0.factor': '请选择有效的评分因子',
      'rules.12.code': '重复',
      grades: '请至少设置一个等级',
    })
    expect(at(errors, 'rules', 2, 'bands', 1, 'min')).toBe('与第 1 档之间有空档')
    expect(at(errors, 'rules', 2, 'bands', 0, 'min')).toBeUndefined()
    expect(ruleMessages(errors, 1)).toEqual([])
    expect(ruleMessages(errors, 2)).toEqual(['与第 1 档之间有空档'])
    expect(firstRuleWithError(errors)).toBe(0)
    expect(firstRuleWithError({ grades: 'x' })).toBe(-1)
  })

  it('moves items and describes ranges', () => {
    const list = ['a', 'b', 'c']
    move(list, 0, 1)
    expect(list).toEqual(['b', 'a', 'c'])
    move(list, 0, -1)
    expect(list).toEqual(['b', 'a', 'c'])
    const [lo, hi] = toForm(DEF).rules[0]!.bands
    expect(rangeText(lo!, 'number')).toBe('x < 18')
    expect(rangeText(hi!, 'number')).toBe('x ≥ 18')
    const level = toForm(DEF).rules[1]!.bands[0]!
    expect(rangeText(level, 'choice', (v) => `[${v}]`)).toBe('[A]、[B]')
  })
})

/**
 * Pure helpers of the scorecard editor: the editable form (every number a string, as Vant
 * fields hold them), its conversion to and from the definition JSON, band/rule operations,
 * and the mapping of the server's 422 paths ("definition.rules.2.bands.1.min") to the form.
 */
import type { Band, Decision, Factor, Force, GradeBand, Rule, ScorecardDefinition } from '@/api/risk'

export interface BandForm {
  min: string
  max: string
  values: string[]
  points: string
  reason: string
  reason_en: string
  force: Force | ''
}

export interface RuleForm {
  /** Client-side key for v-for (stable while rules move). */
  key: number
  code: string
  label: string
  label_en: string
  factor: string
  bands: BandForm[]
  missing_points: string
  missing_reason: string
  missing_force: Force | ''
}

export interface GradeForm {
  key: number
  grade: string
  min: string
  decision: Decision
}

export interface EditorForm {
  base_score: string
  rules: RuleForm[]
  grades: GradeForm[]
}

let seq = 0
const nextKey = () => ++seq

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v))

export function bandToForm(b: Band): BandForm {
  return {
    min: str(b.min),
    max: str(b.max),
    values: [...(b.values ?? [])],
    points: str(b.points),
    reason: b.reason ?? '',
    reason_en: b.reason_en ?? '',
    force: b.force ?? '',
  }
}

export function toForm(def: ScorecardDefinition): EditorForm {
  return {
    base_score: str(def.base_score),
    rules: (def.rules ?? []).map((r) => ({
      key: nextKey(),
      code: r.code ?? '',
      label: r.label ?? '',
      label_en: r.label_en ?? '',
      factor: r.factor ?? '',
      bands: (r.bands ?? []).map(bandToForm),
      missing_points: str(r.missing?.points),
      missing_reason: r.missing?.reason ?? '',
      missing_force: r.missing?.force ?? '',
    })),
    grades: (def.grades ?? []).map((g) => ({ key: nextKey(), grade: g.grade, min: str(g.min), decision: g.decision })),
  }
}

/** "12" → 12, "-5" → -5; anything else is sent as typed, so the server names the problem. */
export function intOrText(v: string): number | string {
  const s = v.trim()
  return /^-?\d+$/.test(s) ? Number(s) : s
}

/** "" → null; numbers stay strings (Decimal on the server). */
export function bound(v: string): string | null {
  const s = v.trim().replace(/,/g, '')
  return s === '' ? null : s
}

export function toDefinition(form: EditorForm, factors: Factor[]): ScorecardDefinition {
  const kindOf = (code: string) => factors.find((f) => f.code === code)?.kind ?? 'number'
  const rules: Rule[] = form.rules.map((r) => {
    const choice = kindOf(r.factor) === 'choice'
    const bands: Band[] = r.bands.map((b) => {
      const band: Band = choice
        ? { values: [...b.values], points: intOrText(b.points), reason: b.reason.trim() }
        : { min: bound(b.min), max: bound(b.max), points: intOrText(b.points), reason: b.reason.trim() }
      if (b.reason_en.trim()) band.reason_en = b.reason_en.trim()
      if (b.force) band.force = b.force
      return band
    })
    const rule: Rule = { code: r.code.trim(), label: r.label.trim(), factor: r.factor, bands }
    if (r.label_en.trim()) rule.label_en = r.label_en.trim()
    if (r.missing_points.trim() || r.missing_reason.trim() || r.missing_force) {
      rule.missing = {}
      if (r.missing_points.trim()) rule.missing.points = intOrText(r.missing_points)
      if (r.missing_reason.trim()) rule.missing.reason = r.missing_reason.trim()
      if (r.missing_force) rule.missing.force = r.missing_force
    }
    return rule
  })
  const grades: GradeBand[] = form.grades.map((g, i) => ({
    grade: g.grade.trim(),
    min: i === form.grades.length - 1 ? null : g.min.trim() === '' ? null : intOrText(g.min),
    decision: g.decision,
  }))
  return { base_score: intOrText(form.base_score), rules, grades }
}

export function emptyBand(): BandForm {
  return { min: '', max: '', values: [], points: '0', reason: '', reason_en: '', force: '' }
}

/** A new band after the last one: a number band starts where the previous one ends. */
export function appendBand(rule: RuleForm): BandForm {
  const band = emptyBand()
  const last = rule.bands[rule.bands.length - 1]
  if (last && last.max.trim() !== '') band.min = last.max.trim()
  rule.bands.push(band)
  return band
}

/** A rule code not yet used: the factor's code, then factor_2, factor_3, ... */
export function uniqueCode(base: string, taken: string[]): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '') || 'rule'
  if (!taken.includes(clean)) return clean
  for (let n = 2; ; n++) if (!taken.includes(`${clean}_${n}`)) return `${clean}_${n}`
}

export function newRule(factor: Factor, taken: string[]): RuleForm {
  return {
    key: nextKey(),
    code: uniqueCode(factor.code, taken),
    label: factor.label,
    label_en: factor.label_en,
    factor: factor.code,
    bands: [emptyBand()],
    missing_points: '',
    missing_reason: '',
    missing_force: '',
  }
}

/** Switching a rule's factor between number and choice kinds resets the bands' shape. */
export function changeFactor(rule: RuleForm, from: Factor | undefined, to: Factor): void {
  rule.factor = to.code
  if (from?.kind !== to.kind) {
    for (const b of rule.bands) {
      b.min = ''
      b.max = ''
      b.values = []
    }
  } else if (to.kind === 'choice') {
    for (const b of rule.bands) b.values = b.values.filter((v) => to.choices.includes(v))
  }
}

export function newGrade(): GradeForm {
  return { key: nextKey(), grade: '', min: '', decision: 'review' }
}

export function move<T>(list: T[], index: number, delta: number): void {
  const target = index + delta
  if (target < 0 || target >= list.length) return
  const [item] = list.splice(index, 1)
  list.splice(target, 0, item as T)
}

/** Server field errors without the "definition." prefix: {"rules.2.bands.1.min": msg, "name": msg}. */
export function definitionErrors(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(fields)) out[k.startsWith('definition.') ? k.slice(11) : k] = v
  return out
}

/** The error of one spot, e.g. at(errors, 'rules', 2, 'bands', 1, 'min'). */
export function at(errors: Record<string, string>, ...path: (string | number)[]): string | undefined {
  return errors[path.join('.')]
}

/** Every message about rule `index` (its fields, bands and missing answer). */
export function ruleMessages(errors: Record<string, string>, index: number): string[] {
  const prefix = `rules.${index}`
  return Object.entries(errors)
    .filter(([k]) => k === prefix || k.startsWith(`${prefix}.`))
    .map(([, v]) => v)
}

/** Index of the first rule with an error, for scrolling to it; -1 when none. */
export function firstRuleWithError(errors: Record<string, string>): number {
  let first = -1
  for (const key of Object.keys(errors)) {
    const m = /^rules\.(\d+)(\.|$)/.exec(key)
    if (m) {
      const i = Number(m[1])
      if (first < 0 || i < first) first = i
    }
  }
  return first
}

/** Human text of a band's range: "[18, 23)", "< 18", "≥ 61"; choice bands list their values. */
export function rangeText(b: BandForm, kind: 'number' | 'choice', choiceText: (v: string) => string = (v) => v): string {
  if (kind === 'choice') return b.values.map(choiceText).join('、')
  const lo = b.min.trim()
  const hi = b.max.trim()
  if (lo && hi) return `${lo} ≤ x < ${hi}`
  if (lo) return `x ≥ ${lo}`
  if (hi) return `x < ${hi}`
  return '—'
}

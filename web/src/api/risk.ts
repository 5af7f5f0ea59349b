import { http, type RequestOptions } from './client'

type Options = Omit<RequestOptions, 'query' | 'body'>

/** Permission code of the scorecard admin pages (superusers pass). */
export const MANAGE_SCORECARDS_PERM = 'risk.manage_scorecards'

export const DECISIONS = ['approve', 'review', 'reject'] as const
export type Decision = (typeof DECISIONS)[number]
export const FORCES = ['review', 'reject'] as const
export type Force = (typeof FORCES)[number]
export const CREDIT_LEVELS = ['A', 'B', 'C', 'watch', 'blacklist', 'none'] as const

/** A number band matches min <= value < max (null: unbounded); a choice band lists values. */
export interface Band {
  min?: string | number | null
  max?: string | number | null
  values?: string[]
  points: number | string
  reason: string
  reason_en?: string
  force?: Force | null
}

export interface MissingAnswer {
  points?: number | string
  reason?: string
  reason_en?: string
  force?: Force | null
}

export interface Rule {
  code: string
  label: string
  label_en?: string
  factor: string
  bands: Band[]
  missing?: MissingAnswer
}

export interface GradeBand {
  grade: string
  /** The lowest total of this grade; null on the last grade (it catches the rest). */
  min: number | string | null
  decision: Decision
}

export interface ScorecardDefinition {
  base_score: number | string
  rules: Rule[]
  grades: GradeBand[]
}

export interface Scorecard {
  code: string
  name: string
  description: string
  definition: ScorecardDefinition
  is_active: boolean
  version: number
  rule_count: number
  updated_at: string
  updated_by: string | null
}

export interface ScorecardBody {
  code?: string
  name?: string
  description?: string
  definition?: ScorecardDefinition
  is_active?: boolean
  /** The version the editor loaded; the server answers 409 when it changed meanwhile. */
  version?: number
}

export interface Factor {
  code: string
  label: string
  label_en: string
  kind: 'number' | 'choice'
  unit: string
  choices: string[]
}

/** One rule's contribution: the approval task page shows these. */
export interface RiskReason {
  code: string
  label: string
  points: number
  detail: string
}

/** The result of a scorecard run, exactly as the flow stores it (data.risk) and preview returns. */
export interface RiskResult {
  scorecard: string
  version: number
  score: number
  grade: string
  decision: Decision
  decision_label: string
  reasons: RiskReason[]
  factors: Record<string, string | null>
  evaluated_at: string
}

export interface PreviewValues {
  customer_id?: number
  amount?: string
  term_months?: string
  annual_rate?: string
  monthly_payment?: string
  monthly_income?: string
  household_income?: string
  age?: string
  birth_date?: string
  credit_level?: string
  blacklisted?: boolean
  applications_30d?: string
  existing_loans_outstanding?: string
  /** Preview unsaved edits. */
  definition?: ScorecardDefinition
}

export interface ResultRow {
  id: number
  scorecard: string
  scorecard_name: string
  version: number
  score: number
  grade: string
  decision: Decision
  record_id: number | null
  instance_id: number | null
  step_id: string
  result: RiskResult
  created_at: string
}

const enc = encodeURIComponent

export const riskApi = {
  factors: (options?: Options) => http.get<Factor[]>('/risk/factors', undefined, options),
  scorecards: (options?: Options) => http.get<Scorecard[]>('/risk/scorecards', undefined, options),
  scorecard: (code: string, options?: Options) =>
    http.get<Scorecard>(`/risk/scorecards/${enc(code)}`, undefined, options),
  createScorecard: (body: ScorecardBody, options?: Options) =>
    http.post<Scorecard>('/risk/scorecards', body, options),
  updateScorecard: (code: string, body: ScorecardBody, options?: Options) =>
    http.patch<Scorecard>(`/risk/scorecards/${enc(code)}`, body, options),
  preview: (code: string, values: PreviewValues, options?: Options) =>
    http.post<RiskResult>(`/risk/scorecards/${enc(code)}/preview`, values, options),
  results: (customerId: number, options?: Options) =>
    http.get<ResultRow[]>('/risk/results', { customer_id: customerId }, options),
}

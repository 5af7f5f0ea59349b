/** 扩展信息: the admin-designed 客户档案 form ("customer_profile") extending a customer. */
import { ApiError } from '@/api/client'
import { formsApi, type FormSchema } from '@/api/forms'
import { fieldLabel, formatFieldValue } from '@/components/forms/display'
import { isBlank, isLayout, type Values } from '@/components/forms/logic'

export const PROFILE_FORM = 'customer_profile'

/** The published schema, or null when there is none or this user may not read it (403/404). */
export async function loadProfileSchema(): Promise<FormSchema | null> {
  try {
    const form = await formsApi.get(PROFILE_FORM, { quiet: [403, 404] })
    return form.schema && form.schema.fields.length ? form.schema : null
  } catch (e) {
    if (e instanceof ApiError) return null
    throw e
  }
}

const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(isBlank(a) ? null : a) === JSON.stringify(isBlank(b) ? null : b)

/** Only the keys whose value changed; a cleared value is sent as null (the server drops it). */
export function customChanges(before: Values, after: Values): Values {
  const out: Values = {}
  for (const [k, v] of Object.entries(after)) {
    if (!same(before[k], v)) out[k] = isBlank(v) ? null : v
  }
  return out
}

/** Without blanks (a new customer sends only what was filled in). */
export function customFilled(values: Values): Values {
  const out: Values = {}
  for (const [k, v] of Object.entries(values)) if (!isBlank(v)) out[k] = v
  return out
}

/** A 422's `custom.<path>` messages, keyed by the form field path (other keys are left out). */
export function customFieldErrors(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(fields)) if (k.startsWith('custom.')) out[k.slice('custom.'.length)] = v
  return out
}

export interface CustomRow {
  key: string
  label: string
  value: string
}

/** The stored values as label/text rows, in the schema's order (unknown keys are left out). */
export function customRows(schema: FormSchema, custom: Values | null | undefined): CustomRow[] {
  const data = custom ?? {}
  return schema.fields
    .filter((f) => !isLayout(f))
    .map((f) => ({ key: f.key, label: fieldLabel(f), value: formatFieldValue(f, data[f.key]) }))
}

import { reactive } from 'vue'
import { ApiError } from '@/api/client'

/** Field messages from a 422 validation_error, for Vant fields' error-message prop. */
export function useFieldErrors() {
  const errors = reactive<Record<string, string>>({})

  function clear(field?: string): void {
    if (field) delete errors[field]
    else for (const k of Object.keys(errors)) delete errors[k]
  }

  /** Returns true when the error carried field messages (and shows them). */
  function apply(e: unknown): boolean {
    clear()
    if (!(e instanceof ApiError) || !e.isValidation) return false
    Object.assign(errors, e.fields)
    return Object.keys(e.fields).length > 0
  }

  return { errors, clear, apply }
}

import type { InjectionKey } from 'vue'
import type { UploadOut } from '@/api/forms'

/** What a form's widgets need from the page they are on (provided by FormRenderer). */
export interface FormContext {
  /** Store a file: signed-in upload or the public link's upload endpoint. */
  upload: (file: File, name: string) => Promise<UploadOut>
  /** Filled in through a public link: no pickers that need a sign-in. */
  public: boolean
  /** URL that shows a stored upload (null on public pages: files are not readable there). */
  fileUrl: (id: string) => string | null
}

export const FORM_CONTEXT: InjectionKey<FormContext> = Symbol('form-context')

/** data-testid of a field's input: "field-co_borrowers-0-name". */
export function fieldTestId(path: string, prefix = 'field'): string {
  return `${prefix}-${path.replace(/\[(\d+)\]\.?/g, '-$1-').replace(/\./g, '-').replace(/-$/, '')}`
}

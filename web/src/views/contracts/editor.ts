/** Pure helpers of the contract-template editor (unit-tested without a DOM). */

export interface Insertion {
  text: string
  /** Where the cursor goes after the insertion (after the token). */
  cursor: number
}

/**
 * Insert `token` into `text` replacing the selection [start, end). A block placeholder
 * ({{schedule_table}}, {{signatures}}) must be a paragraph of its own, so blank lines are added
 * around it where missing.
 */
export function insertPlaceholder(text: string, start: number, end: number, token: string, block = false): Insertion {
  const from = clamp(Math.min(start, end), text.length)
  const to = clamp(Math.max(start, end), text.length)
  let before = text.slice(0, from)
  let after = text.slice(to)
  let insert = token
  if (block) {
    before = before.replace(/[ \t]+$/, '')
    after = after.replace(/^[ \t]+/, '')
    if (before && !before.endsWith('\n\n')) insert = (before.endsWith('\n') ? '\n' : '\n\n') + insert
    if (after && !after.startsWith('\n\n')) {
      insert += after.startsWith('\n') ? '\n' : '\n\n'
    }
  }
  return { text: before + insert + after, cursor: before.length + insert.indexOf(token) + token.length }
}

function clamp(n: number, max: number): number {
  if (!Number.isFinite(n) || n < 0) return 0
  return n > max ? max : n
}

/** Placeholders in the text, in order of appearance ("{{ amount }}" → "amount"). */
export function usedPlaceholders(text: string): string[] {
  const seen: string[] = []
  for (const m of text.matchAll(/\{\{([^{}\n]*)\}\}/g)) {
    const name = (m[1] ?? '').trim()
    if (!seen.includes(name)) seen.push(name)
  }
  return seen
}

/** Page count of a PDF (ReportLab writes one "/Type /Page" object per page). */
export function pdfPageCount(bytes: Uint8Array): number {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return (text.match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length
}

/** 8388 → "8.2 KB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

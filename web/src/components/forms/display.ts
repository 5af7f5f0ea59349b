/** Labels and read-only text for form fields, in the UI language. */
import type { FieldOption, FieldSchema } from '@/api/forms'
import { currentLocale, t } from '@/i18n'
import { formatDateTime, formatMoney } from '@/utils/format'
import { isBlank, utcToLocal } from './logic'

export function fieldLabel(f: Pick<FieldSchema, 'label' | 'label_en' | 'key'>): string {
  if (currentLocale() === 'en-US' && f.label_en) return f.label_en
  return f.label || f.key
}

export function optionLabel(f: FieldSchema, value: unknown): string {
  const o = (f.options ?? []).find((x: FieldOption) => x.value === value)
  if (!o) return String(value ?? '')
  return currentLocale() === 'en-US' && o.label_en ? o.label_en : o.label
}

/** Allowed tags of the rich-text field (the server sanitises again on save). */
const RICH_TAGS = new Set(['B', 'STRONG', 'I', 'EM', 'U', 'UL', 'OL', 'LI', 'P', 'BR', 'DIV', 'SPAN', 'HR'])

/** Keep only simple formatting tags, without any attribute: safe to show with v-html. */
export function sanitizeRichText(html: string): string {
  if (typeof DOMParser === 'undefined') return html.replace(/<[^>]*>/g, '')
  const doc = new DOMParser().parseFromString(`<div>${html}</div>`, 'text/html')
  const root = doc.body.firstElementChild
  if (!root) return ''
  const clean = (node: Element): void => {
    for (const child of Array.from(node.children)) {
      if (!RICH_TAGS.has(child.tagName)) {
        if (['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'TEMPLATE'].includes(child.tagName)) {
          child.remove()
          continue
        }
        clean(child)
        child.replaceWith(...Array.from(child.childNodes))
        continue
      }
      for (const attr of Array.from(child.attributes)) child.removeAttribute(attr.name)
      clean(child)
    }
  }
  clean(root)
  return root.innerHTML
}

export function richTextToPlain(html: string): string {
  return sanitizeRichText(html)
    .replace(/<br\s*\/?>|<\/(p|div|li)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .trim()
}

function refLabel(v: unknown): string {
  if (v && typeof v === 'object') {
    const r = v as { id?: unknown; label?: unknown }
    if (typeof r.label === 'string' && r.label) return r.label
    return r.id !== undefined ? `#${String(r.id)}` : ''
  }
  return v === null || v === undefined ? '' : `#${String(v)}`
}

/** A field's value as one line of text (lists, detail pages, sub-table summaries). */
export function formatFieldValue(f: FieldSchema, v: unknown): string {
  if (isBlank(v)) return ''
  switch (f.type) {
    case 'money':
      return formatMoney(String(v))
    case 'percent':
      return `${String(v)}%`
    case 'number':
    case 'slider': {
      const unit = typeof f.settings?.unit === 'string' ? f.settings.unit : ''
      return `${String(v)}${unit}`
    }
    case 'rating':
      return '★'.repeat(Number(v) || 0)
    case 'switch':
      return v === true ? t('forms.render.yes') : t('forms.render.no')
    case 'select':
    case 'radio':
      return optionLabel(f, v)
    case 'multiselect':
    case 'checkbox':
      return (v as unknown[]).map((x) => optionLabel(f, x)).join('、')
    case 'datetime':
      return typeof v === 'string' && v.endsWith('Z') ? formatDateTime(v) : String(v).replace('T', ' ')
    case 'date_range': {
      const r = v as { start?: string; end?: string }
      return `${r.start ?? ''} ~ ${r.end ?? ''}`
    }
    case 'region': {
      const r = v as { codes?: string[]; names?: string[] }
      return r.names?.length ? r.names.join(' ') : (r.codes ?? []).join('/')
    }
    case 'address': {
      const a = v as { codes?: string[]; names?: string[]; detail?: string }
      const place = a.names?.length ? a.names.join('') : ''
      return `${place}${a.detail ?? ''}`
    }
    case 'location': {
      const l = v as { lat?: string | number; lng?: string | number; address?: string }
      return l.address || `${String(l.lat)}, ${String(l.lng)}`
    }
    case 'image':
    case 'attachment':
      return t('forms.render.fileCount', { n: (v as unknown[]).length })
    case 'signature':
      return t('forms.render.signed')
    case 'user':
    case 'department':
    case 'relation':
      return refLabel(v)
    case 'subtable':
      return t('forms.render.rowCount', { n: (v as unknown[]).length })
    case 'richtext':
      return richTextToPlain(String(v))
    case 'formula': {
      const kind = String(f.settings?.result_type ?? 'number')
      if (kind === 'money') return formatMoney(String(v))
      if (kind === 'percent') return `${String(v)}%`
      if (kind === 'boolean') return v === true ? t('forms.render.yes') : t('forms.render.no')
      return String(v)
    }
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
}

/** ISO datetime from the API → local wall time for a date-time picker. */
export const toLocalInput = utcToLocal

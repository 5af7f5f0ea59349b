import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { placeholderProblem } from '@/api/contracts'
import { formatSize, insertPlaceholder, pdfPageCount, usedPlaceholders } from '@/views/contracts/editor'

describe('insertPlaceholder', () => {
  it('inserts at the cursor and puts the cursor after the token', () => {
    const r = insertPlaceholder('借款金额 元', 5, 5, '{{amount}}')
    expect(r.text).toBe('借款金额 {{amount}}元')
    expect(r.cursor).toBe(5 + '{{amount}}'.length)
  })

  it('replaces the selection, in either direction', () => {
    expect(insertPlaceholder('利率 XX%', 3, 5, '{{annual_rate}}').text).toBe('利率 {{annual_rate}}%')
    expect(insertPlaceholder('利率 XX%', 5, 3, '{{annual_rate}}').text).toBe('利率 {{annual_rate}}%')
  })

  it('clamps a cursor outside the text (appends at the end)', () => {
    expect(insertPlaceholder('abc', 99, 99, '{{term}}').text).toBe('abc{{term}}')
    expect(insertPlaceholder('abc', -1, -1, '{{term}}').text).toBe('{{term}}abc')
  })

  it('puts a block placeholder in a paragraph of its own', () => {
    const r = insertPlaceholder('第四条 还款计划如下:', 11, 11, '{{schedule_table}}', true)
    expect(r.text).toBe('第四条 还款计划如下:\n\n{{schedule_table}}')
    expect(r.text.slice(0, r.cursor).endsWith('{{schedule_table}}')).toBe(true)

    const mid = insertPlaceholder('甲\n\n乙', 2, 2, '{{signatures}}', true)
    expect(mid.text).toBe('甲\n\n{{signatures}}\n\n乙')
    expect(mid.cursor).toBe('甲\n\n{{signatures}}'.length)

    const inline = insertPlaceholder('前文 后文', 3, 3, '{{signatures}}', true)
    expect(inline.text).toBe('前文\n\n{{signatures}}\n\n后文')

    expect(insertPlaceholder('', 0, 0, '{{signatures}}', true).text).toBe('{{signatures}}')
    expect(insertPlaceholder('甲\n', 2, 2, '{{signatures}}', true).text).toBe('甲\n\n{{signatures}}')
  })
})

describe('usedPlaceholders', () => {
  it('lists each placeholder once, trimmed, in order', () => {
    expect(usedPlaceholders('{{ amount }} {{term}}\n\n{{amount}} {{form.purpose}} {{\n}}')).toEqual([
      'amount',
      'term',
      'form.purpose',
    ])
  })
})

describe('pdfPageCount and formatSize', () => {
  it('counts /Type /Page objects but not the /Pages tree', () => {
    const pdf = '%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n3 0 obj << /Type /Page /Parent 1 0 R >>\n%%EOF'
    expect(pdfPageCount(new TextEncoder().encode(pdf))).toBe(2)
    expect(pdfPageCount(new Uint8Array())).toBe(0)
  })

  it('formats sizes', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(8388)).toBe('8.2 KB')
    expect(formatSize(3 * 1024 * 1024)).toBe('3.0 MB')
  })
})

describe('placeholderProblem', () => {
  it('reads where the server says the bad placeholder is', () => {
    const e = new ApiError(422, 'contracts.unknown_placeholder', '第 3 行:未知的占位符 {{rate}}', {
      fields: { body: '第 3 行:未知的占位符 {{rate}}' },
      placeholder: { name: 'rate', line: 3, offset: 12, length: 8 },
    })
    expect(placeholderProblem(e)).toEqual({ name: 'rate', line: 3, offset: 12, length: 8 })
    expect(placeholderProblem(new ApiError(422, 'validation_error', 'x', { fields: {} }))).toBeNull()
    expect(placeholderProblem(new Error('x'))).toBeNull()
  })
})

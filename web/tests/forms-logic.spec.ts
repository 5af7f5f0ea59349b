import { describe, expect, it } from 'vitest'
import type { FormSchema } from '@/api/forms'
import { ApiError } from '@/api/client'
import {
  buildPayload,
  builderToLogic,
  computeVisibility,
  condValue,
  keyProblem,
  localToUtc,
  logicToBuilder,
  makeKey,
  mapFieldErrors,
  normalizePath,
  slugify,
  type CondModel,
} from '@/components/forms/logic'

const schema: FormSchema = {
  fields: [
    { key: 'amount', type: 'money', label: '金额' },
    { key: 'guarantee', type: 'select', label: '担保', visible_when: { '>': [{ var: 'amount' }, 500000] }, options: [{ value: 'a', label: 'A' }] },
    { key: 'guarantor', type: 'text', label: '担保人', visible_when: { '==': [{ var: 'guarantee' }, 'a'] } },
    {
      key: 'co_borrowers',
      type: 'subtable',
      label: '共同借款人',
      children: [
        { key: 'name', type: 'text', label: '姓名' },
        { key: 'married', type: 'switch', label: '已婚' },
        { key: 'spouse', type: 'text', label: '配偶', visible_when: { '==': [{ var: 'married' }, true] } },
      ],
    },
    { key: 'monthly', type: 'formula', label: '月供', formula: 'amount / 12', settings: { result_type: 'money' } },
  ],
}

describe('visibility (JSON-logic on what the server conditions see)', () => {
  it('shows a field when its condition holds, with decimal strings compared as numbers', () => {
    expect(computeVisibility(schema, { amount: '600000.00' }).guarantee).toBe(true)
    expect(computeVisibility(schema, { amount: '100000' }).guarantee).toBe(false)
    expect(computeVisibility(schema, { amount: null }).guarantee).toBe(false)
  })

  it('treats a hidden field as blank for the conditions after it', () => {
    const shown = computeVisibility(schema, { amount: '600000', guarantee: 'a' })
    expect(shown.guarantor).toBe(true)
    const hidden = computeVisibility(schema, { amount: '100', guarantee: 'a' })
    expect(hidden.guarantee).toBe(false)
    expect(hidden.guarantor).toBe(false)
  })

  it('evaluates sub-table cells per row', () => {
    const v = computeVisibility(schema, {
      amount: '1',
      co_borrowers: [
        { name: 'a', married: true, spouse: '' },
        { name: 'b', married: false, spouse: '' },
      ],
    })
    expect(v['co_borrowers[0].spouse']).toBe(true)
    expect(v['co_borrowers[1].spouse']).toBe(false)
  })

  it('sees values as the server does', () => {
    expect(condValue({ key: 'p', type: 'percent', label: '' }, '6.5')).toBe(6.5)
    expect(condValue({ key: 't', type: 'text', label: '' }, '  a   b ')).toBe('a b')
    expect(condValue({ key: 't', type: 'text', label: '' }, '')).toBeNull()
    expect(condValue({ key: 'r', type: 'relation', label: '' }, { id: 7, label: '张三' })).toBe(7)
    expect(condValue({ key: 'd', type: 'datetime', label: '' }, '2026-03-01T10:30')).toBe('2026-03-01T02:30:00Z')
    expect(localToUtc('bad')).toBeNull()
  })
})

describe('payload', () => {
  it('leaves out computed, hidden and read-only fields and keeps row positions', () => {
    const s: FormSchema = { ...schema, fields: [...schema.fields, { key: 'ro', type: 'text', label: 'x', readonly: true }] }
    const values = {
      amount: '100',
      guarantee: 'a',
      guarantor: 'x',
      co_borrowers: [
        { name: 'a', married: false, spouse: 'ignored' },
        { name: '', married: false, spouse: '' },
      ],
      ro: 'keep out',
    }
    const data = buildPayload(s, values, computeVisibility(s, values))
    expect(data).toEqual({
      amount: '100',
      co_borrowers: [
        { name: 'a', married: false },
        { name: '', married: false },
      ],
    })
  })
})

describe('422 field messages', () => {
  it('maps top-level and sub-table paths to fields, the rest to the form', () => {
    const error = new ApiError(422, 'validation_error', '提交的数据有误', {
      fields: { amount: '请输入金额', 'co_borrowers[1].name': '此项为必填项', 'co_borrowers.0.spouse': '格式不对', sms_code: '验证码错误' },
    })
    const values = { co_borrowers: [{}, {}] }
    const { byPath, other } = mapFieldErrors(error.fields, schema, values)
    expect(byPath).toEqual({
      amount: '请输入金额',
      'co_borrowers[1].name': '此项为必填项',
      'co_borrowers[0].spouse': '格式不对',
    })
    expect(other).toEqual(['验证码错误'])
  })

  it('normalises path spellings', () => {
    expect(normalizePath('rows.2.name')).toBe('rows[2].name')
    expect(normalizePath('data.rows[2][name]')).toBe('rows[2].name')
    expect(normalizePath('amount')).toBe('amount')
  })
})

describe('field keys', () => {
  it('validates like the server', () => {
    expect(keyProblem('', [])).toBe('empty')
    expect(keyProblem('Amount', [])).toBe('format')
    expect(keyProblem('1abc', [])).toBe('format')
    expect(keyProblem('a'.repeat(41), [])).toBe('format')
    expect(keyProblem('owner', [])).toBe('reserved')
    expect(keyProblem('website', [])).toBe('reserved')
    expect(keyProblem('amount', ['amount'])).toBe('duplicate')
    expect(keyProblem('monthly_income', ['amount'])).toBeNull()
  })

  it('generates keys from the English or Latin label, else from the type, unique', () => {
    expect(slugify('Monthly income (CNY)')).toBe('monthly_income_cny')
    expect(slugify('月收入')).toBe('')
    expect(makeKey('月收入', 'Monthly income', 'money', [])).toBe('monthly_income')
    expect(makeKey('月收入', 'Monthly income', 'money', ['monthly_income'])).toBe('monthly_income_1')
    expect(makeKey('月收入', '', 'money', [])).toBe('money_1')
    expect(makeKey('单行文本', undefined, 'text', ['text_1'])).toBe('text_2')
    expect(makeKey('Owner', undefined, 'user', [])).toBe('owner_1')
    expect(makeKey('2nd phone', undefined, 'phone', [])).toBe('nd_phone')
    for (const k of ['money_1', 'monthly_income', 'owner_1']) expect(keyProblem(k, [])).toBeNull()
  })
})

describe('condition builder ⇄ JSON-logic', () => {
  const types = { amount: 'money', product: 'select', tags: 'multiselect', married: 'switch', name: 'text' }

  it('one rule stays bare; numbers for numeric fields, booleans for switches', () => {
    const one: CondModel = { mode: 'and', groups: [{ mode: 'and', rules: [{ field: 'amount', op: '>', value: '500000' }] }] }
    expect(builderToLogic(one, types)).toEqual({ '>': [{ var: 'amount' }, 500000] })
    const sw: CondModel = { mode: 'and', groups: [{ mode: 'and', rules: [{ field: 'married', op: '==', value: 'true' }] }] }
    expect(builderToLogic(sw, types)).toEqual({ '==': [{ var: 'married' }, true] })
  })

  it('builds AND/OR groups and empty / contains / in operators', () => {
    const model: CondModel = {
      mode: 'or',
      groups: [
        {
          mode: 'and',
          rules: [
            { field: 'product', op: '==', value: 'business' },
            { field: 'amount', op: '>=', value: '100000' },
          ],
        },
        {
          mode: 'or',
          rules: [
            { field: 'name', op: 'empty', value: '' },
            { field: 'tags', op: 'contains', value: 'vip' },
            { field: 'product', op: 'in', value: 'car, mortgage' },
          ],
        },
      ],
    }
    const logic = builderToLogic(model, types)
    expect(logic).toEqual({
      or: [
        { and: [{ '==': [{ var: 'product' }, 'business'] }, { '>=': [{ var: 'amount' }, 100000] }] },
        { or: [{ '!': { var: 'name' } }, { in: ['vip', { var: 'tags' }] }, { in: [{ var: 'product' }, ['car', 'mortgage']] }] },
      ],
    })
    // and reads back into the same model
    expect(logicToBuilder(logic)).toEqual({
      ...model,
      groups: [model.groups[0], { ...model.groups[1], rules: model.groups[1]!.rules.map((r) => (r.op === 'in' ? { ...r, value: 'car,mortgage' } : r)) }],
    })
  })

  it('no rules means always visible; rules without a field are skipped', () => {
    expect(builderToLogic({ mode: 'and', groups: [] }, types)).toBeNull()
    expect(builderToLogic({ mode: 'and', groups: [{ mode: 'and', rules: [{ field: '', op: '==', value: 'x' }] }] }, types)).toBeNull()
  })

  it('reads the demo forms’ conditions and refuses shapes it cannot show', () => {
    expect(logicToBuilder({ '!': { var: 'customer' } })).toEqual({
      mode: 'and',
      groups: [{ mode: 'and', rules: [{ field: 'customer', op: 'empty', value: '' }] }],
    })
    expect(logicToBuilder({ '>': [{ '+': [{ var: 'a' }, 1] }, 2] })).toBeNull()
    expect(logicToBuilder(null)).toEqual({ mode: 'and', groups: [] })
  })
})

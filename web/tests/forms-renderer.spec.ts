import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { reactive } from 'vue'
import type { Evaluation, FieldSchema, FormSchema } from '@/api/forms'
import ConditionBuilder from '@/components/forms/ConditionBuilder.vue'
import FormRenderer from '@/components/forms/FormRenderer.vue'
import type { Values } from '@/components/forms/logic'
import { i18n, setLocale } from '@/i18n'
import { vantPlugin } from '@/plugins/vant'

const global = { plugins: [i18n, vantPlugin] }

const schema: FormSchema = {
  fields: [
    { key: 'amount', type: 'money', label: '申请金额' },
    {
      key: 'guarantee',
      type: 'radio',
      label: '担保方式',
      visible_when: { '>': [{ var: 'amount' }, 500000] },
      options: [
        { value: 'guarantor', label: '保证' },
        { value: 'collateral', label: '抵押' },
      ],
    },
    {
      key: 'co_borrowers',
      type: 'subtable',
      label: '共同借款人',
      validation: { min_rows: 1, max_rows: 3 },
      children: [
        { key: 'name', type: 'text', label: '姓名', required: true },
        { key: 'income', type: 'money', label: '月收入' },
      ],
    },
    { key: 'monthly', type: 'formula', label: '月供', formula: 'amount / 12', settings: { result_type: 'money' } },
  ],
}

function setup(props: Record<string, unknown> = {}) {
  setLocale('zh-CN', { persist: false })
  const values = reactive<Values>({ amount: null, guarantee: null, co_borrowers: [{ name: null, income: null }] })
  const wrapper = mount(FormRenderer, { props: { schema, values, ...props }, global, attachTo: document.body })
  return { wrapper, values }
}

describe('FormRenderer', () => {
  it('shows and hides a field by its visibility condition as the user types', async () => {
    const { wrapper } = setup()
    expect(wrapper.find('[data-field="guarantee"]').exists()).toBe(false)
    await wrapper.find('[data-testid="field-amount"]').setValue('600000')
    expect(wrapper.find('[data-field="guarantee"]').exists()).toBe(true)
    expect(wrapper.text()).toContain('担保方式')
    await wrapper.find('[data-testid="field-amount"]').setValue('1000')
    expect(wrapper.find('[data-field="guarantee"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('adds and removes sub-table rows within min and max rows', async () => {
    const { wrapper, values } = setup()
    const rows = () => wrapper.findAll('[data-testid^="field-co_borrowers-row-"]')
    expect(rows()).toHaveLength(1)
    // at the minimum the only row cannot be removed
    expect(wrapper.find('[data-testid="field-co_borrowers-remove-0"]').attributes('disabled')).toBeDefined()
    await wrapper.find('[data-testid="field-co_borrowers-add"]').trigger('click')
    await wrapper.find('[data-testid="field-co_borrowers-add"]').trigger('click')
    expect(rows()).toHaveLength(3)
    expect(values.co_borrowers).toHaveLength(3)
    // the maximum reached: no add button
    expect(wrapper.find('[data-testid="field-co_borrowers-add"]').exists()).toBe(false)
    await wrapper.find('[data-testid="field-co_borrowers-2-name"]').setValue('王五')
    expect((values.co_borrowers as Values[])[2]!.name).toBe('王五')
    await wrapper.find('[data-testid="field-co_borrowers-remove-1"]').trigger('click')
    expect(rows()).toHaveLength(2)
    expect((values.co_borrowers as Values[])[1]!.name).toBe('王五')
    wrapper.unmount()
  })

  it('shows 422 messages under fields and sub-table cells', async () => {
    const { wrapper } = setup({ errors: { amount: '请输入有效的金额', 'co_borrowers[0].name': '此项为必填项' } })
    await flushPromises()
    expect(wrapper.find('[data-field="amount"]').text()).toContain('请输入有效的金额')
    expect(wrapper.find('[data-field="co_borrowers[0].name"]').text()).toContain('此项为必填项')
    wrapper.unmount()
  })

  it('refreshes formulas from the server, debounced', async () => {
    vi.useFakeTimers()
    const evaluate = vi.fn(
      async (data: Values): Promise<Evaluation> => ({
        version: 1,
        values: { monthly: data.amount ? String(Number(data.amount) / 12) : null },
        visible: {},
        errors: {},
      }),
    )
    const { wrapper } = setup({ evaluate, debounceMs: 300 })
    await vi.advanceTimersByTimeAsync(350)
    const calls = evaluate.mock.calls.length
    await wrapper.find('[data-testid="field-amount"]').setValue('12')
    await wrapper.find('[data-testid="field-amount"]').setValue('120')
    await wrapper.find('[data-testid="field-amount"]').setValue('1200')
    await vi.advanceTimersByTimeAsync(100)
    expect(evaluate.mock.calls.length).toBe(calls)
    await vi.advanceTimersByTimeAsync(300)
    await flushPromises()
    expect(evaluate.mock.calls.length).toBe(calls + 1)
    expect(evaluate.mock.calls.at(-1)![0]).toMatchObject({ amount: '1200' })
    expect((wrapper.find('[data-testid="field-monthly"]').element as HTMLInputElement).value).toBe('¥100.00')
    vi.useRealTimers()
    wrapper.unmount()
  })

  it('renders every field type of the registry without an unknown widget', () => {
    const types = [
      'text', 'textarea', 'richtext', 'number', 'money', 'percent', 'amount_capital', 'slider', 'date', 'datetime',
      'time', 'date_range', 'select', 'multiselect', 'radio', 'checkbox', 'switch', 'rating', 'phone', 'email',
      'id_number', 'uscc', 'bank_card', 'url', 'region', 'address', 'location', 'image', 'attachment', 'signature',
      'serial', 'user', 'department', 'relation', 'lookup', 'formula', 'section', 'description',
    ]
    const fields: FieldSchema[] = types.map((type) => ({
      key: `f_${type}`,
      type,
      label: type,
      options: [{ value: 'a', label: 'A' }],
      settings: type === 'lookup' ? { relation: 'f_relation' } : {},
    }))
    const values = reactive<Values>({})
    const wrapper = mount(FormRenderer, { props: { schema: { fields }, values }, global })
    expect(wrapper.find('.ff-unknown').exists()).toBe(false)
    for (const type of types) expect(wrapper.find(`[data-field="f_${type}"]`).exists(), type).toBe(true)
    wrapper.unmount()
  }, 20_000)
})

describe('ConditionBuilder', () => {
  const fields: FieldSchema[] = [
    { key: 'amount', type: 'money', label: '申请金额' },
    { key: 'product', type: 'select', label: '产品', options: [{ value: 'car', label: '车贷' }] },
  ]

  it('turns field → operator → value into JSON-logic and shows it', async () => {
    const wrapper = mount(ConditionBuilder, { props: { modelValue: null, fields }, global })
    await wrapper.find('[data-testid="cond-add-group"]').trigger('click')
    await wrapper.find('[data-testid="cond-0-0-field"]').setValue('amount')
    await wrapper.find('[data-testid="cond-0-0-op"]').setValue('>')
    await wrapper.find('[data-testid="cond-0-0-value"]').setValue('500000')
    const emitted = wrapper.emitted('update:modelValue')!
    expect(emitted.at(-1)![0]).toEqual({ '>': [{ var: 'amount' }, 500000] })
    expect(wrapper.find('[data-testid="cond-json"]').text()).toBe('{">":[{"var":"amount"},500000]}')

    await wrapper.find('[data-testid="cond-group-0-add"]').trigger('click')
    await wrapper.find('[data-testid="cond-0-1-field"]').setValue('product')
    await wrapper.find('[data-testid="cond-0-1-value"]').setValue('car')
    await wrapper.find('[data-testid="cond-group-0-mode"]').setValue('or')
    expect(wrapper.emitted('update:modelValue')!.at(-1)![0]).toEqual({
      or: [{ '>': [{ var: 'amount' }, 500000] }, { '==': [{ var: 'product' }, 'car'] }],
    })
    wrapper.unmount()
  })

  it('falls back to JSON for conditions it cannot show', () => {
    const wrapper = mount(ConditionBuilder, {
      props: { modelValue: { '>': [{ '+': [{ var: 'amount' }, 1] }, 2] }, fields },
      global,
    })
    expect(wrapper.find('[data-testid="cond-raw"]').exists()).toBe(true)
    wrapper.unmount()
  })
})

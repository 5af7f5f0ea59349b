import { describe, expect, it } from 'vitest'
import enUS from '@/locales/en-US'
import zhCN from '@/locales/zh-CN'
import { i18n, setLocale } from '@/i18n'

type Tree = { [key: string]: string | Tree }

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out.set(key, v)
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv)
  }
  return out
}

const zh = flatten(zhCN as unknown as Tree)
const en = flatten(enUS as unknown as Tree)
const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('locale messages', () => {
  it('zh-CN and en-US have exactly the same keys', () => {
    const missingInEn = [...zh.keys()].filter((k) => !en.has(k))
    const missingInZh = [...en.keys()].filter((k) => !zh.has(k))
    expect(missingInEn).toEqual([])
    expect(missingInZh).toEqual([])
    expect(zh.size).toBeGreaterThan(100)
  })

  it('has no empty messages', () => {
    for (const [k, v] of [...zh, ...en]) expect(v.trim(), k).not.toBe('')
  })

  it('uses the same interpolation parameters in both languages', () => {
    for (const [k, v] of zh) expect(params(en.get(k) ?? ''), k).toEqual(params(v))
  })

  it('avoids characters that vue-i18n would parse as syntax', () => {
    for (const [k, v] of [...zh, ...en]) expect(v, k).not.toMatch(/[@$|]/)
  })

  it('the English text is actually English', () => {
    const cjk = /[\u4e00-\u9fff]/
    const allowed = new Set(['app.fullName', 'me.language', 'language.zh-CN'])
    for (const [k, v] of en) if (!allowed.has(k)) expect(cjk.test(v), `${k}: ${v}`).toBe(false)
  })

  it('renders through vue-i18n in both locales', () => {
    setLocale('zh-CN', { persist: false })
    expect(i18n.global.t('home.morning', { name: '王小明' })).toBe('早上好，王小明')
    expect(i18n.global.t('admin.roles.scope.department_tree')).toBe('本部门及下级')
    setLocale('en-US', { persist: false })
    expect(i18n.global.t('home.morning', { name: 'Wang' })).toBe('Good morning, Wang')
    expect(i18n.global.t('tabs.customers')).toBe('Customers')
    setLocale('zh-CN', { persist: false })
  })
})

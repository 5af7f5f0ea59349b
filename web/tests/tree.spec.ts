import { describe, expect, it } from 'vitest'
import type { Department } from '@/api/types'
import { buildTree, flattenTree, subtreeIds } from '@/utils/tree'

function dept(id: number, name: string, parent_id: number | null): Department {
  return { id, name, parent_id, head: null, path: name, user_count: 0 }
}

const flat = [
  dept(1, '总部', null),
  dept(4, '上海分公司', 1),
  dept(2, '北京分公司', 1),
  dept(3, '北京一组', 2),
  dept(5, '北京二组', 2),
  dept(6, '独立机构', null),
]

describe('department tree builder', () => {
  it('nests children under parents, keeping sibling order, with depths', () => {
    const roots = buildTree(flat)
    expect(roots.map((r) => r.item.name)).toEqual(['总部', '独立机构'])
    const hq = roots[0]!
    expect(hq.children.map((c) => c.item.name)).toEqual(['上海分公司', '北京分公司'])
    expect(hq.children[1]!.children.map((c) => [c.item.name, c.depth])).toEqual([
      ['北京一组', 2],
      ['北京二组', 2],
    ])
  })

  it('flattens depth-first, parents before children', () => {
    const rows = flattenTree(buildTree(flat)).map((n) => `${'-'.repeat(n.depth)}${n.item.id}`)
    expect(rows).toEqual(['1', '-4', '-2', '--3', '--5', '6'])
  })

  it('works when children come before their parents in the list', () => {
    const rows = flattenTree(buildTree([dept(3, 'c', 2), dept(2, 'b', 1), dept(1, 'a', null)]))
    expect(rows.map((n) => [n.item.id, n.depth])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ])
  })

  it('keeps orphans (missing parent) as roots instead of dropping them', () => {
    const roots = buildTree([dept(1, 'a', null), dept(7, 'orphan', 99)])
    expect(roots.map((r) => r.item.id)).toEqual([1, 7])
  })

  it('survives cycles and duplicate ids without losing or repeating nodes', () => {
    const rows = flattenTree(buildTree([dept(1, 'a', 2), dept(2, 'b', 1), dept(3, 'c', 3), dept(3, 'dup', null)]))
    expect(rows.map((n) => n.item.id).sort()).toEqual([1, 2, 3])
    expect(rows.find((n) => n.item.id === 3)?.item.name).toBe('c')
  })

  it('handles an empty list', () => {
    expect(buildTree([])).toEqual([])
  })

  it('collects a subtree', () => {
    expect([...subtreeIds(buildTree(flat), 2)].sort()).toEqual([2, 3, 5])
    expect(subtreeIds(buildTree(flat), 42).size).toBe(0)
  })
})

/** Build a tree from a flat list of {id, parent_id} records (the departments API). */

export interface FlatNode {
  id: number
  parent_id: number | null
}

export interface TreeNode<T extends FlatNode> {
  item: T
  depth: number
  children: TreeNode<T>[]
}

/**
 * Keeps the input order among siblings. A record whose parent is missing from the list, or
 * whose ancestry loops back to itself, becomes a root instead of disappearing.
 */
export function buildTree<T extends FlatNode>(items: readonly T[]): TreeNode<T>[] {
  const byId = new Map<number, T>()
  for (const item of items) if (!byId.has(item.id)) byId.set(item.id, item)

  const hasValidParent = (item: T): boolean => {
    if (item.parent_id === null || !byId.has(item.parent_id)) return false
    const seen = new Set<number>([item.id])
    let cursor: T | undefined = byId.get(item.parent_id)
    while (cursor) {
      if (seen.has(cursor.id)) return false // cycle
      seen.add(cursor.id)
      cursor = cursor.parent_id === null ? undefined : byId.get(cursor.parent_id)
    }
    return true
  }

  const nodes = new Map<number, TreeNode<T>>()
  for (const item of byId.values()) nodes.set(item.id, { item, depth: 0, children: [] })

  const roots: TreeNode<T>[] = []
  for (const item of byId.values()) {
    const node = nodes.get(item.id)!
    if (hasValidParent(item)) nodes.get(item.parent_id as number)!.children.push(node)
    else roots.push(node)
  }

  const setDepth = (list: TreeNode<T>[], depth: number): void => {
    for (const n of list) {
      n.depth = depth
      setDepth(n.children, depth + 1)
    }
  }
  setDepth(roots, 0)
  return roots
}

/** Depth-first, parents before children: the order for an indented list. */
export function flattenTree<T extends FlatNode>(roots: readonly TreeNode<T>[]): TreeNode<T>[] {
  const out: TreeNode<T>[] = []
  const walk = (list: readonly TreeNode<T>[]): void => {
    for (const n of list) {
      out.push(n)
      walk(n.children)
    }
  }
  walk(roots)
  return out
}

/** Ids of a node and all its descendants. */
export function subtreeIds<T extends FlatNode>(roots: readonly TreeNode<T>[], id: number): Set<number> {
  const out = new Set<number>()
  const target = flattenTree(roots).find((n) => n.item.id === id)
  if (!target) return out
  for (const n of flattenTree([target])) out.add(n.item.id)
  return out
}

/**
 * A radix tree of prefix paths. A lookup follows the request path from the root, one edge per
 * differing stretch of characters (`path.startsWith(label, pos)`, no substring allocated), and
 * meets every route path that is a prefix of the request on the way — so all prefix candidates
 * of a request are found in one walk whatever the number of routes.
 */

export interface TrieNode<V> {
  /** the characters on the edge from the parent */
  label: string
  /** children keyed by the first character code of their label */
  children: Map<number, TrieNode<V>> | null
  /** values whose key ends exactly here, strongest (lowest rank) first */
  here: V[] | null
  /** lowest rank in this subtree: lets a lookup stop once nothing below can win */
  min: number
}

/**
 * An empty tree; fill it with `trieInsert`, then call `trieFinalize` once.
 *
 * @example
 *   const root = createTrie<{ rank: number }>()
 *   trieInsert(root, '/api', { rank: 0 })
 *   trieFinalize(root)
 */
export function createTrie<V>(): TrieNode<V> {
  return { label: '', children: null, here: null, min: Number.POSITIVE_INFINITY }
}

/** Adds `value` under `key`, splitting an edge where the key leaves it. */
export function trieInsert<V>(root: TrieNode<V>, key: string, value: V): void {
  let node = root
  let pos = 0
  for (;;) {
    if (pos === key.length) {
      if (node.here) node.here.push(value)
      else node.here = [value]
      return
    }
    const first = key.charCodeAt(pos)
    node.children ??= new Map()
    const child = node.children.get(first)
    if (!child) {
      node.children.set(first, { label: key.slice(pos), children: null, here: [value], min: 0 })
      return
    }
    const label = child.label
    let common = 0
    while (
      common < label.length &&
      pos + common < key.length &&
      label.charCodeAt(common) === key.charCodeAt(pos + common)
    ) {
      common++
    }
    if (common < label.length) {
      const mid: TrieNode<V> = {
        label: label.slice(0, common),
        children: new Map([[label.charCodeAt(common), child]]),
        here: null,
        min: 0,
      }
      child.label = label.slice(common)
      node.children.set(first, mid)
      node = mid
    } else {
      node = child
    }
    pos += common
  }
}

/** Sorts every node's values by rank and computes the subtree minimums. */
export function trieFinalize<V extends { rank: number }>(node: TrieNode<V>): number {
  let min = Number.POSITIVE_INFINITY
  if (node.here) {
    node.here.sort((a, b) => a.rank - b.rank)
    min = node.here[0]!.rank
  }
  if (node.children) for (const child of node.children.values()) min = Math.min(min, trieFinalize(child))
  node.min = min
  return min
}

/**
 * A radix tree of path prefixes. A lookup follows the request path from the root, one edge per
 * differing stretch of characters (compared in place, no substring allocated), and meets every
 * key that is a prefix of the request on the way — so all candidates of a request are found in
 * one walk whatever the number of routes.
 *
 * Two kinds of values hang on a node: `prefixes` (route paths, which still need a segment
 * boundary at that point) and `patterns` (regex paths filed under the literal text every match
 * starts with, so a lookup only ever runs the regexes that can possibly match).
 */

export interface TrieNode<V> {
  /** the characters on the edge from the parent */
  label: string
  /** children keyed by the first character code of their label */
  children: Map<number, TrieNode<V>> | null
  /** prefix-path values whose key ends exactly here, strongest (lowest rank) first */
  prefixes: V[] | null
  /** regex values whose literal prefix ends exactly here, strongest first */
  patterns: V[] | null
  /** lowest rank in this subtree: lets a lookup stop once nothing below can win */
  min: number
}

export type TrieSlot = 'prefixes' | 'patterns'

function node<V>(label: string, children: Map<number, TrieNode<V>> | null): TrieNode<V> {
  return { label, children, prefixes: null, patterns: null, min: Number.POSITIVE_INFINITY }
}

/**
 * An empty tree; fill it with `trieInsert`, then call `trieFinalize` once.
 *
 * @example
 *   const root = createTrie<{ rank: number }>()
 *   trieInsert(root, '/api', { rank: 0 }, 'prefixes')
 *   trieFinalize(root)
 */
export function createTrie<V>(): TrieNode<V> {
  return node('', null)
}

/** Adds `value` under `key`, splitting an edge where the key leaves it. */
export function trieInsert<V>(root: TrieNode<V>, key: string, value: V, slot: TrieSlot): void {
  let at = root
  let pos = 0
  while (pos < key.length) {
    const first = key.charCodeAt(pos)
    at.children ??= new Map()
    const child = at.children.get(first)
    if (!child) {
      const leaf = node<V>(key.slice(pos), null)
      at.children.set(first, leaf)
      at = leaf
      break
    }
    const label = child.label
    let common = 1
    while (
      common < label.length &&
      pos + common < key.length &&
      label.charCodeAt(common) === key.charCodeAt(pos + common)
    ) {
      common++
    }
    if (common < label.length) {
      const mid = node(label.slice(0, common), new Map([[label.charCodeAt(common), child]]))
      child.label = label.slice(common)
      at.children.set(first, mid)
      at = mid
    } else {
      at = child
    }
    pos += common
  }
  const list = at[slot]
  if (list) list.push(value)
  else at[slot] = [value]
}

/** Sorts every node's values by rank and computes the subtree minimums. */
export function trieFinalize<V extends { rank: number }>(at: TrieNode<V>): number {
  let min = Number.POSITIVE_INFINITY
  for (const list of [at.prefixes, at.patterns]) {
    if (list === null) continue
    list.sort((a, b) => a.rank - b.rank)
    min = Math.min(min, list[0]!.rank)
  }
  if (at.children) for (const child of at.children.values()) min = Math.min(min, trieFinalize(child))
  at.min = min
  return min
}

/**
 * True when `s` continues at `pos` with `label`. The first character already selected the child,
 * so the comparison starts at the second; in place, without the substring `slice` would make.
 */
export function continuesWith(s: string, pos: number, label: string): boolean {
  const n = label.length
  if (pos + n > s.length) return false
  for (let i = 1; i < n; i++) if (s.charCodeAt(pos + i) !== label.charCodeAt(i)) return false
  return true
}

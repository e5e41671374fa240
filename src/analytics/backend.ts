import { HyperLogLog } from './hll.js'

/** What a flush writes: counter hashes, heavy-hitter sets, unique-client sets, this node's line. */
export interface Batch {
  hashes: Array<{ key: string; fields: Map<string, number>; ttlSec: number }>
  zsets: Array<{ key: string; members: Map<string, number>; keep: number; ttlSec: number }>
  uniques: Array<{ key: string; items: string[]; ttlSec: number }>
  node: { id: string; value: string; ttlSec: number }
}

/**
 * Where flushed analytics live: Redis (shared by every node, so every node answers with
 * cluster-wide numbers) or this process's memory. The operations are Redis's own (HINCRBY,
 * ZINCRBY + trim, PFADD/PFCOUNT, HSET), so both backends hold the same shapes.
 */
export interface Backend {
  write(batch: Batch): Promise<void>
  /** each key's hash (empty when absent), in order */
  hashes(keys: string[]): Promise<Array<Map<string, number>>>
  /** each key's sorted set as member → score */
  zsets(keys: string[]): Promise<Array<Map<string, number>>>
  /** distinct items over the union of the keys */
  uniques(keys: string[]): Promise<number>
  /** every node's last line */
  nodes(): Promise<string[]>
  /**
   * Before a read: every other process writing this node's numbers flushes first (a node with
   * workers and no Redis); absent where each process's flush is all there is to wait for
   */
  gather?(): Promise<void>
}

interface Slot<T> {
  value: T
  expires: number
}

/** The memory-only backend: the same shapes in maps, each key with its expiry. */
export class MemoryBackend implements Backend {
  readonly #hashes = new Map<string, Slot<Map<string, number>>>()
  readonly #zsets = new Map<string, Slot<Map<string, number>>>()
  readonly #hlls = new Map<string, Slot<HyperLogLog>>()
  readonly #nodes = new Map<string, Slot<string>>()

  constructor(readonly now: () => number = Date.now) {}

  async write(batch: Batch): Promise<void> {
    const now = this.now()
    this.#sweep(now)
    for (const { key, fields, ttlSec } of batch.hashes) {
      const h = this.#slot(this.#hashes, key, now + ttlSec * 1000, () => new Map<string, number>())
      for (const [f, n] of fields) h.set(f, (h.get(f) ?? 0) + n)
    }
    for (const { key, members, keep, ttlSec } of batch.zsets) {
      const z = this.#slot(this.#zsets, key, now + ttlSec * 1000, () => new Map<string, number>())
      for (const [m, n] of members) z.set(m, (z.get(m) ?? 0) + n)
      if (z.size > keep) {
        const sorted = [...z].sort((a, b) => b[1] - a[1])
        for (const [m] of sorted.slice(keep)) z.delete(m)
      }
    }
    for (const { key, items, ttlSec } of batch.uniques) {
      const hll = this.#slot(this.#hlls, key, now + ttlSec * 1000, () => new HyperLogLog())
      for (const item of items) hll.add(item)
    }
    this.#nodes.set(batch.node.id, { value: batch.node.value, expires: now + batch.node.ttlSec * 1000 })
  }

  async hashes(keys: string[]): Promise<Array<Map<string, number>>> {
    const now = this.now()
    return keys.map((k) => live(this.#hashes.get(k), now) ?? new Map())
  }

  async zsets(keys: string[]): Promise<Array<Map<string, number>>> {
    const now = this.now()
    return keys.map((k) => live(this.#zsets.get(k), now) ?? new Map())
  }

  async uniques(keys: string[]): Promise<number> {
    const now = this.now()
    const union = new HyperLogLog()
    for (const k of keys) {
      const h = live(this.#hlls.get(k), now)
      if (h !== undefined) union.merge(h)
    }
    return union.count()
  }

  async nodes(): Promise<string[]> {
    const now = this.now()
    return [...this.#nodes.values()].filter((s) => s.expires > now).map((s) => s.value)
  }

  #slot<T>(map: Map<string, Slot<T>>, key: string, expires: number, init: () => T): T {
    let s = map.get(key)
    if (s === undefined) map.set(key, (s = { value: init(), expires }))
    s.expires = expires
    return s.value
  }

  /** expired keys go at each flush: memory is bounded by the retention, as Redis's EXPIRE bounds it */
  #sweep(now: number): void {
    for (const map of [this.#hashes, this.#zsets, this.#hlls, this.#nodes] as Map<string, Slot<unknown>>[]) {
      for (const [k, s] of map) if (s.expires <= now) map.delete(k)
    }
  }
}

function live<T>(slot: Slot<T> | undefined, now: number): T | undefined {
  return slot !== undefined && slot.expires > now ? slot.value : undefined
}

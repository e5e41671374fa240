import type { MemoryCache } from '../../core/services.js'

interface Slot<V> {
  value: V
  bytes: number
  expiresAt: number
}

/** What a slot costs beyond its value: the key (UTF-16) and the Map entry, roughly. */
const SLOT_OVERHEAD = 64

/**
 * A byte-bounded LRU with per-entry expiry, on one `Map` (whose insertion order is the recency
 * order: a hit moves its key to the end, eviction takes from the front). Expired entries are
 * dropped when read, when evicted as the oldest, and by {@link stats}; no timer runs.
 *
 * @example
 *   const lru = new ByteLru<string>(1024)
 *   lru.set('a', 'x'.repeat(100), 100, 5_000)
 *   lru.get('a')   // → 'xxx…'
 *   lru.stats()    // → { entries: 1, bytes: 165, budget: 1024 }
 */
export class ByteLru<V> implements MemoryCache<V> {
  readonly #map = new Map<string, Slot<V>>()
  #bytes = 0
  #budget: number

  constructor(
    budgetBytes: number,
    readonly now: () => number = Date.now,
  ) {
    this.#budget = Math.max(0, budgetBytes)
  }

  get budget(): number {
    return this.#budget
  }

  set budget(bytes: number) {
    this.#budget = Math.max(0, bytes)
    this.#evict()
  }

  get(key: string): V | undefined {
    const slot = this.#map.get(key)
    if (slot === undefined) return undefined
    if (slot.expiresAt <= this.now()) {
      this.#drop(key, slot)
      return undefined
    }
    // most recently used goes last; re-inserting is two hash operations, no allocation
    this.#map.delete(key)
    this.#map.set(key, slot)
    return slot.value
  }

  set(key: string, value: V, bytes: number, ttlMs: number): void {
    const cost = bytes + key.length * 2 + SLOT_OVERHEAD
    const prev = this.#map.get(key)
    if (prev !== undefined) this.#drop(key, prev)
    // an entry larger than the whole budget would only evict everything and then itself
    if (ttlMs <= 0 || cost > this.#budget) return
    this.#map.set(key, { value, bytes: cost, expiresAt: this.now() + ttlMs })
    this.#bytes += cost
    this.#evict()
  }

  delete(key: string): boolean {
    const slot = this.#map.get(key)
    if (slot === undefined) return false
    this.#drop(key, slot)
    return true
  }

  clear(): void {
    this.#map.clear()
    this.#bytes = 0
  }

  stats(): { entries: number; bytes: number; budget: number } {
    const now = this.now()
    for (const [key, slot] of this.#map) if (slot.expiresAt <= now) this.#drop(key, slot)
    return { entries: this.#map.size, bytes: this.#bytes, budget: this.#budget }
  }

  #drop(key: string, slot: Slot<V>): void {
    this.#map.delete(key)
    this.#bytes -= slot.bytes
  }

  #evict(): void {
    if (this.#bytes <= this.#budget) return
    for (const [key, slot] of this.#map) {
      this.#drop(key, slot)
      if (this.#bytes <= this.#budget) return
    }
  }
}

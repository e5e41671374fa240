/**
 * A bounded map with least-recently-used eviction in two generations: entries live in `young`
 * until it holds `max / 2`, then `young` becomes `old` and the previous `old` is dropped. A hit
 * in `old` moves the entry to `young`. A hit in `young` costs one `Map.get` (no reordering),
 * which is what the per-request path wants; at most `max` entries are kept.
 *
 * @example
 *   const cache = new BoundedCache<string, Verified>(2048)
 *   cache.set(token, verified)
 *   cache.get(token) // → verified
 */
export class BoundedCache<K, V> {
  #young = new Map<K, V>()
  #old = new Map<K, V>()
  readonly #half: number

  constructor(readonly max: number) {
    if (!(max >= 2)) throw new RangeError('BoundedCache needs room for at least 2 entries')
    this.#half = Math.floor(max / 2)
  }

  get size(): number {
    return this.#young.size + this.#old.size
  }

  get(key: K): V | undefined {
    const v = this.#young.get(key)
    if (v !== undefined) return v
    const o = this.#old.get(key)
    if (o === undefined) return undefined
    this.#old.delete(key)
    this.#put(key, o)
    return o
  }

  set(key: K, value: V): void {
    this.#old.delete(key)
    this.#put(key, value)
  }

  delete(key: K): void {
    this.#young.delete(key)
    this.#old.delete(key)
  }

  clear(): void {
    this.#young.clear()
    this.#old.clear()
  }

  #put(key: K, value: V): void {
    if (!this.#young.has(key) && this.#young.size >= this.#half) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(key, value)
  }
}

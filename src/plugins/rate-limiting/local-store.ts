import { type Algorithm, consume, type Limit, refund, stateSize, type Verdict } from './algorithms.js'

/**
 * Entries the sweeper looks at per tick, and how often it ticks: 20,000 keys a second in
 * slices of ~1 ms (deleting from a big Map is the cost; `scripts/rate-limit-memory.ts`).
 */
const SWEEP_BATCH = 5_000
const SWEEP_EVERY_MS = 250
/** slots allocated at first use; the table doubles up to `maxKeys` */
const INITIAL_SLOTS = 1_024

/**
 * The `local` policy's counters: one node's memory, bounded. Keys map to slots of one
 * Float64Array (a struct-of-arrays table: no object per key, nothing for the GC to trace but the
 * Map's strings), so a million keys cost about a Map entry plus `8 × stateSize` bytes each
 * (`scripts/rate-limit-memory.ts` measures it).
 *
 * Idle keys go away: each slot carries the time after which its state equals "never seen", and
 * a sweeper walks the table in batches. At `maxKeys` the oldest key is forgotten (its client
 * starts afresh) so the table never grows past its cap.
 *
 * @example
 *   const store = new LocalCounters(FIXED, limits.length, 1_000_000)
 *   const out = new Float64Array(2 + 2 * limits.length)
 *   store.consume('i:10.0.0.1', limits, Date.now(), out)  // → true while under the limit
 */
export class LocalCounters {
  readonly #map = new Map<string, number>()
  readonly #stride: number
  #state: Float64Array
  #slots: number
  #next = 0
  readonly #free: number[] = []
  #sweeper: Iterator<[string, number]> | null = null
  #evictor: Iterator<[string, number]> | null = null
  #timer: NodeJS.Timeout | null = null
  /** plugin instances using this table (it outlives reloads; the last one out clears it) */
  refs = 0
  /** keys dropped at the cap (a sign the cap is too small) */
  evicted = 0

  constructor(
    readonly algo: Algorithm,
    windows: number,
    readonly maxKeys: number,
  ) {
    this.#stride = stateSize(algo, windows)
    this.#slots = Math.min(INITIAL_SLOTS, maxKeys)
    this.#state = new Float64Array(this.#slots * this.#stride)
  }

  get size(): number {
    return this.#map.size
  }

  /** bytes held by the state table (the Map's share is measured, not computed) */
  get tableBytes(): number {
    return this.#state.byteLength
  }

  /**
   * Checks and, when every window has room, records one request of `key`. `limits` are the
   * instance's current ones (a reload may change the numbers; the table keeps the counts).
   */
  consume(key: string, limits: readonly Limit[], now: number, out: Verdict): boolean {
    let slot = this.#map.get(key)
    if (slot === undefined) slot = this.#insert(key, now)
    return consume(this.algo, limits, this.#state, slot * this.#stride, now, out)
  }

  /** Gives back `units` requests recorded by {@link consume} at `t0` (default: one, now). */
  refund(key: string, limits: readonly Limit[], now: number, units = 1, t0 = now): void {
    const slot = this.#map.get(key)
    if (slot !== undefined) refund(this.algo, limits, this.#state, slot * this.#stride, now, units, t0)
  }

  #insert(key: string, now: number): number {
    if (this.#map.size >= this.maxKeys) this.#makeRoom(now)
    let slot = this.#free.pop()
    if (slot === undefined) {
      if (this.#next === this.#slots) this.#grow()
      slot = this.#next++
    }
    const base = slot * this.#stride
    this.#state.fill(0, base, base + this.#stride)
    this.#map.set(key, slot)
    if (this.#timer === null) this.#startSweeper()
    return slot
  }

  #grow(): void {
    const slots = Math.min(this.#slots * 2, this.maxKeys)
    const next = new Float64Array(slots * this.#stride)
    next.set(this.#state)
    this.#state = next
    this.#slots = slots
  }

  /**
   * At the cap: drop an expired key among the next 64 in insertion order, else the oldest of
   * them. The walk resumes where the last one stopped: starting over from the Map's head each
   * time would step over every entry deleted there (V8 keeps them as holes until it rehashes).
   */
  #makeRoom(now: number): void {
    let it = this.#evictor ?? this.#map.entries()
    let oldestKey: string | undefined
    let oldestSlot = 0
    for (let looked = 0; looked < 64; looked++) {
      let r = it.next()
      if (r.done === true) {
        it = this.#map.entries()
        r = it.next()
        if (r.done === true) break
      }
      const [key, slot] = r.value
      if (this.#state[slot * this.#stride]! <= now) {
        this.#evictor = it
        return this.#delete(key, slot)
      }
      if (oldestKey === undefined) {
        oldestKey = key
        oldestSlot = slot
      }
    }
    this.#evictor = it
    if (oldestKey === undefined) return
    this.#delete(oldestKey, oldestSlot)
    this.evicted++
  }

  #delete(key: string, slot: number): void {
    this.#map.delete(key)
    this.#free.push(slot)
  }

  #startSweeper(): void {
    this.#timer = setInterval(() => this.sweep(Date.now(), SWEEP_BATCH), SWEEP_EVERY_MS)
    this.#timer.unref()
  }

  /**
   * Drops keys whose state has expired, looking at up to `budget` keys from where the last
   * sweep stopped. Returns how many were dropped.
   */
  sweep(now: number, budget = Number.POSITIVE_INFINITY): number {
    let dropped = 0
    let it = this.#sweeper ?? this.#map.entries()
    for (let n = 0; n < budget; n++) {
      const r = it.next()
      if (r.done === true) {
        it = this.#map.entries()
        break
      }
      const [key, slot] = r.value
      if (this.#state[slot * this.#stride]! <= now) {
        this.#delete(key, slot)
        dropped++
      }
    }
    this.#sweeper = it
    if (this.#map.size === 0) this.#stopSweeper()
    return dropped
  }

  #stopSweeper(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#sweeper = null
  }

  /** Forget everything and release the memory (the last instance using the table closed). */
  clear(): void {
    this.#stopSweeper()
    this.#map.clear()
    this.#evictor = null
    this.#free.length = 0
    this.#next = 0
    this.#slots = Math.min(INITIAL_SLOTS, this.maxKeys)
    this.#state = new Float64Array(this.#slots * this.#stride)
  }
}

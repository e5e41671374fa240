import type { PrimaryHub } from '../../core/peers.js'
import { type Algorithm, FIXED, type Limit, SLIDING } from './algorithms.js'
import { grantSize, HOLD_MS, RECHECK_MS } from './blocks.js'
import { LocalCounters } from './local-store.js'
import { fixedEnd } from './windows.js'

/** The topic a worker asks its quota on (see node-counters.ts). */
export const TAKE = 'rate-limiting.take'
/** Unused units of a block given back (idle, expired, the instance closed). */
export const GIVE_BACK = 'rate-limiting.give-back'

/** Which table: the instance's (plugin id and counter layout) and what its windows are. */
export interface TableRef {
  table: string
  algo: Algorithm
  limits: Limit[]
  maxKeys: number
}

/** A worker's question: `need` units of `key` now, and up to `want` more for its block. */
export interface TakeAsk extends TableRef {
  key: string
  need: number
  want: number
}

/** A worker gives back `units` of a grant made at `t0`. */
export interface GiveBackTell extends TableRef {
  key: string
  units: number
  t0: number
}

/**
 * The answer: `res` in the Redis lease script's layout (`[granted, t0, refused, retry ms, ttl ms,
 * remaining₁, reset ms₁, …]`, lease-lua.ts), so the worker runs the redis policy's
 * `LeaseLimiter` unchanged; `hold`, how long the worker may answer a refusal itself.
 */
export interface TakeAnswer {
  res: number[]
  hold: number
}

/** How often the primary forgets the blocks whose hold time has passed. */
const HOLDERS_SWEEP_MS = 5_000

/**
 * One instance's node-wide table: the same `LocalCounters` a single process runs (so the
 * algorithms are exact for the node), and who holds a block of which key until when.
 */
class NodeTable {
  readonly counters: LocalCounters
  /** key → worker process id → end of the block it holds */
  readonly holders = new Map<string, Map<number, number>>()
  readonly #out: Float64Array
  readonly #last: Float64Array

  constructor(q: TableRef) {
    this.counters = new LocalCounters(q.algo, q.limits.length, q.maxKeys)
    this.#out = new Float64Array(2 + 2 * q.limits.length)
    this.#last = new Float64Array(2 + 2 * q.limits.length)
  }

  /**
   * Grants a block: every unit is recorded in the algorithm now, as if admitted at once (the
   * worker uses it before the block's end: within the same fixed or sliding window, so counted
   * in the right one). Sized by `grantSize`, as Redis sizes a node's lease.
   */
  take(q: TakeAsk, from: number, now: number): TakeAnswer {
    const { key, limits } = q
    // this worker asks again: its previous block of the key is used up or was given back
    this.#release(key, from)
    const out = this.#out
    const ttl = ttlOf(q.algo, limits, now)
    if (!this.counters.consume(key, limits, now, out)) {
      // nobody else holds units of the key: nothing comes back before the retry time, so the
      // worker keeps the refusal that long; else it asks again once units may have come back
      const hold = this.#heldElsewhere(key, from, now) ? Math.min(out[1]!, RECHECK_MS) : out[1]!
      return { res: [0, now, out[0]!, out[1]!, ttl, ...out.subarray(2)], hold }
    }
    let avail = Number.POSITIVE_INFINITY
    for (let i = 0; i < limits.length; i++) avail = Math.min(avail, out[2 + 2 * i]! + 1)
    const block = grantSize(avail, q.need, q.want)
    let granted = 1
    while (granted < block && this.counters.consume(key, limits, now, this.#last)) {
      granted++
      out.set(this.#last)
    }
    let held = this.holders.get(key)
    if (held === undefined) this.holders.set(key, (held = new Map()))
    held.set(from, now + Math.min(ttl, HOLD_MS))
    return { res: [granted, now, 0, 0, ttl, ...out.subarray(2)], hold: 0 }
  }

  giveBack(q: GiveBackTell, from: number, now: number): void {
    this.#release(q.key, from)
    if (q.units > 0) this.counters.refund(q.key, q.limits, now, q.units, q.t0)
  }

  #release(key: string, from: number): void {
    const held = this.holders.get(key)
    if (held === undefined) return
    held.delete(from)
    if (held.size === 0) this.holders.delete(key)
  }

  #heldElsewhere(key: string, from: number, now: number): boolean {
    const held = this.holders.get(key)
    if (held === undefined) return false
    for (const [id, until] of held) if (id !== from && until > now) return true
    return false
  }

  /** Forgets blocks past their end (their units were used or went back) and a gone worker's. */
  sweep(now: number, gone?: number): void {
    for (const [key, held] of this.holders) {
      for (const [id, until] of held) if (until <= now || id === gone) held.delete(id)
      if (held.size === 0) this.holders.delete(key)
    }
  }
}

/**
 * How long a block may be used (the Redis lease script's `ttl`): never past the end of the
 * fixed or sliding window its units were counted in; a token bucket's units are good for its
 * window's length (the worker holds them at most HOLD_MS anyway).
 */
function ttlOf(algo: Algorithm, limits: readonly Limit[], now: number): number {
  let ttl = Number.POSITIVE_INFINITY
  for (const l of limits) {
    const end =
      algo === FIXED ? fixedEnd(l.code, now) - now : algo === SLIDING ? l.size - (now % l.size) : l.size
    ttl = Math.min(ttl, end)
  }
  return Math.floor(ttl)
}

/**
 * The local policy's node-wide counters, in the primary process of a node with workers.
 * Workers take quota in blocks for every algorithm and spend it without a message per request
 * (node-counters.ts, the redis policy's `LeaseLimiter`); blocks are sized as Redis sizes a
 * node's lease (`blocks.ts`: half of what is left at most, 1 near the limit), every granted unit
 * counts as admitted at its grant, and unused units come back (idle, the block's end, the
 * instance closed), so the node never admits more than its limit and loses little of it.
 *
 * A worker that dies keeps what it held until its windows end (it may have used it).
 */
export function rateLimitingPrimary(hub: PrimaryHub): void {
  const tables = new Map<string, NodeTable>()
  const tableOf = (q: TableRef): NodeTable => {
    let table = tables.get(q.table)
    if (table === undefined) tables.set(q.table, (table = new NodeTable(q)))
    return table
  }
  hub.handle(TAKE, (body, from) => tableOf(body as TakeAsk).take(body as TakeAsk, from, Date.now()))
  hub.handle(GIVE_BACK, (body, from) => {
    tableOf(body as GiveBackTell).giveBack(body as GiveBackTell, from, Date.now())
  })
  hub.onWorkerExit((_slot, id) => {
    for (const t of tables.values()) t.sweep(Date.now(), id)
  })
  setInterval(() => {
    for (const t of tables.values()) t.sweep(Date.now())
  }, HOLDERS_SWEEP_MS).unref()
}

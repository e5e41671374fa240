import type { PrimaryHub } from '../../core/peers.js'
import { type Algorithm, FIXED, type Limit } from './algorithms.js'
import { LocalCounters } from './local-store.js'
import { fixedEnd } from './windows.js'

/** The topic a worker asks its quota on (see node-counters.ts). */
export const TAKE = 'rate-limiting.take'
/** A request admitted by a sliding window or token bucket given back (composition). */
export const REFUND = 'rate-limiting.refund'

/** A worker's question: up to `want` requests of `key` in the table of one instance. */
export interface TakeAsk {
  /** the instance's table: plugin id and counter layout */
  table: string
  algo: Algorithm
  limits: Limit[]
  maxKeys: number
  key: string
  want: number
}

/**
 * The answer: `granted` requests recorded for the asker (0: refused), valid until `until`
 * (ms since the epoch), and the verdict of the last one (`[refused, retryMs, remaining₀,
 * resetMs₀, …]`, as `consume` fills it) measured at `at`.
 */
export interface TakeAnswer {
  granted: number
  until: number
  at: number
  out: number[]
}

/** At most this many requests in one block: a worker never sits on much of the quota. */
const MAX_BLOCK = 64

/**
 * The local policy's node-wide counters, in the primary process of a node with workers. They
 * are the same `LocalCounters` a single process runs, so the algorithms and the limits are
 * exact for the node; workers take quota from them in blocks (fixed window) and spend it
 * without a message per request.
 *
 * Block size: a fair share of what is left, `remaining / (2 × workers)`, 1 near the limit, so
 * the quota parked in workers is small when it matters; a block lasts until the end of the
 * shortest window it was taken in, never into the next one, so a worker can never admit more
 * than the node's limit in any window. Sliding window and token bucket have no such boundary
 * (a request recorded now and admitted later could fall in a window that did not count it):
 * their blocks are one request, taken when it arrives.
 */
export function rateLimitingPrimary(hub: PrimaryHub): void {
  const tables = new Map<string, LocalCounters>()
  const tableOf = (q: Omit<TakeAsk, 'key' | 'want'>): LocalCounters => {
    let table = tables.get(q.table)
    if (table === undefined) {
      table = new LocalCounters(q.algo, q.limits.length, q.maxKeys)
      tables.set(q.table, table)
    }
    return table
  }
  hub.handle(REFUND, (body) => {
    const q = body as TakeAsk
    tableOf(q).refund(q.key, q.limits, Date.now())
  })
  hub.handle(TAKE, (body) => {
    const q = body as TakeAsk
    const table = tableOf(q)
    const now = Date.now()
    const out = new Float64Array(2 + 2 * q.limits.length)
    if (!table.consume(q.key, q.limits, now, out)) return answer(0, now + out[1]!, now, out)
    let granted = 1
    if (q.algo === FIXED) {
      let left = Number.POSITIVE_INFINITY
      for (let i = 0; i < q.limits.length; i++) left = Math.min(left, out[2 + 2 * i]!)
      const block = Math.min(q.want, MAX_BLOCK, Math.max(1, Math.floor(left / (2 * hub.workers))))
      const last = new Float64Array(out.length)
      while (granted < block && table.consume(q.key, q.limits, now, last)) {
        granted++
        out.set(last)
      }
    }
    let until = now
    if (q.algo === FIXED) {
      until = Number.POSITIVE_INFINITY
      for (const l of q.limits) until = Math.min(until, fixedEnd(l.code, now))
    }
    return answer(granted, until, now, out)
  })
}

const answer = (granted: number, until: number, at: number, out: Float64Array): TakeAnswer => ({
  granted,
  until,
  at,
  out: Array.from(out),
})

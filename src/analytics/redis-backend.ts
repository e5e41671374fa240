import type { RedisConnection } from '../core/services.js'
import type { Backend, Batch } from './backend.js'

/** unique clients are sent in PFADDs of at most this many items */
const PFADD_CHUNK = 1000

/** a flush or an Admin API read is background work: it may take this long */
const BACKGROUND_DEADLINE_MS = 5000

/**
 * The Redis backend: every node flushes into the same keys (counters add up with HINCRBY,
 * heavy hitters with ZINCRBY, clients with PFADD), so any node reads cluster-wide numbers.
 * Every key carries the caller's `{…}` tag: one Cluster slot, so PFCOUNT over several keys
 * works there too. A flush is one pipeline, off the request path.
 */
export class SharedRedisBackend implements Backend {
  constructor(
    readonly conn: RedisConnection,
    /** the hash of every node's last line */
    readonly nodesKey: string,
  ) {}

  /**
   * One command through the node's Redis layer, as background work (off the request path: a
   * flush or a read of the Admin API has far more time than a request, and is not refused
   * while the request path's breaker is open). Commands issued in the same tick leave on the
   * one connection back to back, so a flush is still one round trip's worth of writes.
   */
  #call<R>(command: string, argv: ReadonlyArray<string | number>): Promise<R> {
    return this.conn.call<R>(command, argv, { deadlineMs: BACKGROUND_DEADLINE_MS, background: true })
  }

  async write(batch: Batch): Promise<void> {
    const calls: Array<Promise<unknown>> = []
    for (const { key, fields, ttlSec } of batch.hashes) {
      for (const [f, n] of fields) calls.push(this.#call('hincrby', [key, f, n]))
      calls.push(this.#call('expire', [key, ttlSec]))
    }
    for (const { key, members, keep, ttlSec } of batch.zsets) {
      for (const [m, n] of members) calls.push(this.#call('zincrby', [key, n, m]))
      calls.push(this.#call('zremrangebyrank', [key, 0, -(keep + 1)]))
      calls.push(this.#call('expire', [key, ttlSec]))
    }
    for (const { key, items, ttlSec } of batch.uniques) {
      for (let i = 0; i < items.length; i += PFADD_CHUNK)
        calls.push(this.#call('pfadd', [key, ...items.slice(i, i + PFADD_CHUNK)]))
      calls.push(this.#call('expire', [key, ttlSec]))
    }
    calls.push(this.#call('hset', [this.nodesKey, batch.node.id, batch.node.value]))
    calls.push(this.#call('expire', [this.nodesKey, batch.node.ttlSec]))
    await Promise.all(calls)
  }

  async hashes(keys: string[]): Promise<Array<Map<string, number>>> {
    const all = await Promise.all(
      keys.map((k) => this.#call<string[] | Record<string, string>>('hgetall', [k])),
    )
    return all.map(pairs)
  }

  async zsets(keys: string[]): Promise<Array<Map<string, number>>> {
    const all = await Promise.all(keys.map((k) => this.#call<string[]>('zrange', [k, 0, -1, 'WITHSCORES'])))
    return all.map(pairs)
  }

  async uniques(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0
    return this.#call<number>('pfcount', keys)
  }

  async nodes(): Promise<string[]> {
    const reply = await this.#call<string[] | Record<string, string>>('hgetall', [this.nodesKey])
    return Array.isArray(reply) ? reply.filter((_, i) => i % 2 === 1) : Object.values(reply)
  }
}

/** A flat `[field, value, …]` reply as numbers by field. */
function pairs(flat: readonly string[] | Record<string, string>): Map<string, number> {
  const m = new Map<string, number>()
  if (!Array.isArray(flat)) {
    for (const [f, v] of Object.entries(flat)) m.set(f, Number(v))
    return m
  }
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, Number(flat[i + 1]))
  return m
}

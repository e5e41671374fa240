import type { RedisArg, RedisConnection, RedisScript } from '../core/services.js'
import type { Backend, Batch } from './backend.js'
import { CHUNK_UPDATES, FLUSH_LUA } from './flush-lua.js'

/** unique clients are sent in PFADDs of at most this many items */
const PFADD_CHUNK = 1000

/** a flush or an Admin API read may take this long */
const BACKGROUND_DEADLINE_MS = 5000

/** a flush or an Admin API read is background work: off the request path, not refused while the
 * request path's breaker is open, and given this long */
const BACKGROUND = { deadlineMs: BACKGROUND_DEADLINE_MS, background: true } as const

/**
 * The Redis backend: every node flushes into the same keys (counters add up with HINCRBY,
 * heavy hitters with ZINCRBY, clients with PFADD), so any node reads cluster-wide numbers.
 * Every key carries the caller's `{…}` tag: one Cluster slot, so PFCOUNT over several keys
 * and one script over every key work there too. A flush is a few script calls (chunks of
 * {@link CHUNK_UPDATES} updates, see flush-lua.ts) and the PFADDs, sent in the same tick.
 */
export class SharedRedisBackend implements Backend {
  readonly #flush: RedisScript<number>

  constructor(
    readonly conn: RedisConnection,
    /** the hash of every node's last line */
    readonly nodesKey: string,
  ) {
    this.#flush = conn.script<number>('analytics-flush', FLUSH_LUA, 1)
  }

  #call<R>(command: string, argv: ReadonlyArray<string | number>): Promise<R> {
    return this.conn.call<R>(command, argv, BACKGROUND)
  }

  async write(batch: Batch): Promise<void> {
    const calls: Array<Promise<unknown>> = []
    let argv: RedisArg[] = [this.nodesKey]
    let updates = 0
    const cut = (next: number) => {
      // a record never spans two calls; a chunk closes when the next record would pass the bound
      if (updates > 0 && updates + next > CHUNK_UPDATES) {
        calls.push(this.#flush.run(argv, BACKGROUND))
        argv = [this.nodesKey]
        updates = 0
      }
      updates += next
    }
    for (const { key, fields, ttlSec } of batch.hashes) {
      cut(fields.size)
      argv.push('h', key, ttlSec, fields.size)
      for (const [f, n] of fields) argv.push(f, n)
    }
    for (const { key, members, keep, ttlSec } of batch.zsets) {
      cut(members.size)
      argv.push('z', key, ttlSec, keep, members.size)
      for (const [m, n] of members) argv.push(m, n)
    }
    const { node } = batch
    argv.push('n', node.id, node.value, node.ttlSec)
    calls.push(this.#flush.run(argv, BACKGROUND))
    for (const { key, items, ttlSec } of batch.uniques) {
      for (let i = 0; i < items.length; i += PFADD_CHUNK)
        calls.push(this.#call('pfadd', [key, ...items.slice(i, i + PFADD_CHUNK)]))
      calls.push(this.#call('expire', [key, ttlSec]))
    }
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

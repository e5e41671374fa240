import type { RedisConnection } from '../core/services.js'
import type { Backend, Batch } from './backend.js'

/** unique clients are sent in PFADDs of at most this many items */
const PFADD_CHUNK = 1000

/**
 * The Redis backend: every node flushes into the same keys (counters add up with HINCRBY,
 * heavy hitters with ZINCRBY, clients with PFADD), so any node reads cluster-wide numbers.
 * Every key carries the caller's `{…}` tag: one Cluster slot, so PFCOUNT over several keys
 * works there too. A flush is one pipeline, off the request path.
 */
export class RedisBackend implements Backend {
  constructor(
    readonly conn: RedisConnection,
    /** the hash of every node's last line */
    readonly nodesKey: string,
  ) {}

  async write(batch: Batch): Promise<void> {
    const p = this.conn.client.pipeline()
    for (const { key, fields, ttlSec } of batch.hashes) {
      for (const [f, n] of fields) p.hincrby(key, f, n)
      p.expire(key, ttlSec)
    }
    for (const { key, members, keep, ttlSec } of batch.zsets) {
      for (const [m, n] of members) p.zincrby(key, n, m)
      p.zremrangebyrank(key, 0, -(keep + 1))
      p.expire(key, ttlSec)
    }
    for (const { key, items, ttlSec } of batch.uniques) {
      for (let i = 0; i < items.length; i += PFADD_CHUNK) p.pfadd(key, ...items.slice(i, i + PFADD_CHUNK))
      p.expire(key, ttlSec)
    }
    p.hset(this.nodesKey, batch.node.id, batch.node.value)
    p.expire(this.nodesKey, batch.node.ttlSec)
    const results = (await p.exec()) ?? []
    const failed = results.find(([err]) => err !== null)
    if (failed !== undefined) throw failed[0]
  }

  async hashes(keys: string[]): Promise<Array<Map<string, number>>> {
    if (keys.length === 0) return []
    const p = this.conn.client.pipeline()
    for (const k of keys) p.hgetall(k)
    const results = (await p.exec()) ?? []
    return results.map(([err, value]) => {
      if (err !== null) throw err
      const m = new Map<string, number>()
      for (const [f, v] of Object.entries(value as Record<string, string>)) m.set(f, Number(v))
      return m
    })
  }

  async zsets(keys: string[]): Promise<Array<Map<string, number>>> {
    if (keys.length === 0) return []
    const p = this.conn.client.pipeline()
    for (const k of keys) p.zrange(k, '0', '-1', 'WITHSCORES')
    const results = (await p.exec()) ?? []
    return results.map(([err, value]) => {
      if (err !== null) throw err
      const flat = value as string[]
      const m = new Map<string, number>()
      for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!, Number(flat[i + 1]))
      return m
    })
  }

  async uniques(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0
    return this.conn.client.pfcount(...keys)
  }

  async nodes(): Promise<string[]> {
    return Object.values(await this.conn.client.hgetall(this.nodesKey))
  }
}

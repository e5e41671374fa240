import { Pool } from 'undici'
import { interimAwareConnector } from './upstream/interim.js'

export interface PoolOptions {
  protocol: 'http' | 'https'
  host: string
  port: number
  connectTimeout: number
  tlsVerify: boolean
}

/** Keep-alive settings and caps shared by every pool; the peer benchmark's floor uses the same. */
export interface PoolDefaults {
  /** connections per upstream origin at most */
  connections: number
  keepAliveTimeout: number
  /**
   * requests per upstream origin waiting for a free connection at most; one more is answered
   * 503 at once (`UPSTREAM_BUSY`) instead of joining an unbounded queue. 0 = no cap.
   */
  queue: number
}

const DEFAULTS: PoolDefaults = { connections: 128, keepAliveTimeout: 60_000, queue: 1024 }

// requests dispatched to a pool and not finished, kept on the pool itself: read and written
// once per request, no map lookup
const kBusy = Symbol('portico.busy')
const kCap = Symbol('portico.cap')
type Counted = Pool & { [kBusy]: number; [kCap]: number }

/** Takes a place on the pool for one request; false when every connection and queue place is taken. */
export function admit(pool: Pool): boolean {
  const p = pool as Counted
  if (p[kCap] > 0 && p[kBusy] >= p[kCap]) return false
  p[kBusy]++
  return true
}

/** Gives back the place {@link admit} took. */
export function leave(pool: Pool): void {
  ;(pool as Counted)[kBusy]--
}

/**
 * undici keep-alive pools, one per (origin, connect timeout, TLS verification), shared by every
 * runtime. A config reload must not drop warm upstream connections, so pools outlive runtimes:
 * each compile marks what it uses (`use`), and `sweep` closes what the current runtime no
 * longer references once the runtimes that used them have drained.
 *
 * @example
 *   const pools = new PoolRegistry()
 *   const pool = pools.use({ protocol: 'http', host: '127.0.0.1', port: 9001, connectTimeout: 60000, tlsVerify: true }, gen)
 */
export class PoolRegistry {
  readonly #pools = new Map<string, { pool: Pool; generation: number }>()
  readonly #defaults: PoolDefaults

  constructor(defaults: Partial<PoolDefaults> = {}) {
    this.#defaults = { ...DEFAULTS, ...defaults }
  }

  use(o: PoolOptions, generation: number): Pool {
    const key = `${o.protocol}://${o.host}:${o.port}|${o.connectTimeout}|${o.tlsVerify ? 1 : 0}`
    const found = this.#pools.get(key)
    if (found !== undefined) {
      found.generation = Math.max(found.generation, generation)
      return found.pool
    }
    const host = o.host.includes(':') ? `[${o.host}]` : o.host
    const pool = new Pool(`${o.protocol}://${host}:${o.port}`, {
      connections: this.#defaults.connections,
      pipelining: 1,
      keepAliveTimeout: this.#defaults.keepAliveTimeout,
      keepAliveMaxTimeout: Math.max(this.#defaults.keepAliveTimeout, 600_000),
      // undici's connector, minus the unsolicited 100s it would take for a broken response
      connect: interimAwareConnector({ timeout: o.connectTimeout, rejectUnauthorized: o.tlsVerify }),
      // timeouts are set per request from the service; these are only the outer bounds
      headersTimeout: 0,
      bodyTimeout: 0,
      strictContentLength: true,
    })
    const counted = pool as Counted
    counted[kBusy] = 0
    counted[kCap] = this.#defaults.queue > 0 ? this.#defaults.connections + this.#defaults.queue : 0
    this.#pools.set(key, { pool, generation })
    return pool
  }

  /** Close pools no runtime at or after `generation` uses. */
  sweep(generation: number): void {
    for (const [key, entry] of this.#pools) {
      if (entry.generation < generation) {
        this.#pools.delete(key)
        entry.pool.close().catch(() => entry.pool.destroy().catch(() => {}))
      }
    }
  }

  get size(): number {
    return this.#pools.size
  }

  async close(): Promise<void> {
    const all = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(all.map((e) => e.pool.close().catch(() => e.pool.destroy())))
  }
}

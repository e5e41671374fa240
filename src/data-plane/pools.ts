import { createHash } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { type buildConnector, Pool } from 'undici'
import { interimAwareConnector } from './upstream/interim.js'

/** A TLS service's side of the handshake (Kong's `ca_certificates`, `client_certificate`, `tls_verify_depth`). */
export interface UpstreamTls {
  /** trusted CAs (PEM) instead of the system store */
  ca?: string[] | undefined
  /** client certificate and key (PEM) for an upstream that asks for one */
  cert?: string | undefined
  key?: string | undefined
  /** the server name sent (SNI); undefined for an address */
  servername?: string | undefined
  /** longest chain accepted below the leaf (the leaf is depth 0) */
  verifyDepth?: number | undefined
}

export interface PoolOptions {
  protocol: 'http' | 'https'
  host: string
  port: number
  connectTimeout: number
  tlsVerify: boolean
  tls?: UpstreamTls | null
}

/** Certificates in the peer's chain, leaf first (a self-issued certificate ends it). */
function chainLength(socket: TLSSocket): number {
  let cert = socket.getPeerCertificate(true)
  let n = 0
  const seen = new Set<string>()
  while (
    cert !== undefined &&
    cert !== null &&
    Object.keys(cert).length > 0 &&
    !seen.has(cert.fingerprint256)
  ) {
    seen.add(cert.fingerprint256)
    n++
    cert = cert.issuerCertificate
  }
  return n
}

class ChainTooLongError extends Error {
  readonly code = 'PORTICO_CHAIN_TOO_LONG'
}

/**
 * undici's connector with the TLS options of a service, and its `tls_verify_depth` checked once
 * per connection (OpenSSL's depth: the leaf is 0, so a chain may hold depth + 1 certificates).
 */
/**
 * undici's connector with the service's TLS options, minus the unsolicited 100s it would take
 * for a broken response (`upstream/interim.ts`), and the chain-depth check when one is set.
 */
function connector(o: PoolOptions): buildConnector.connector {
  const t = o.tls
  const base = {
    timeout: o.connectTimeout,
    rejectUnauthorized: o.tlsVerify,
    ...(t?.ca === undefined ? {} : { ca: t.ca }),
    ...(t?.cert === undefined ? {} : { cert: t.cert, key: t.key }),
    ...(t?.servername === undefined ? {} : { servername: t.servername }),
  }
  const depth = t?.verifyDepth
  const connect = interimAwareConnector(base)
  if (depth === undefined || !o.tlsVerify) return connect
  return (opts, callback) =>
    connect(opts, (err, socket) => {
      if (err !== null) return callback(err, null)
      if (chainLength(socket as TLSSocket) > depth + 1) {
        socket.destroy()
        return callback(
          new ChainTooLongError(`certificate chain longer than tls_verify_depth ${depth}`),
          null,
        )
      }
      callback(null, socket)
    })
}

/** What tells two pools apart besides the origin: timeouts and every TLS option. */
function poolKey(o: PoolOptions): string {
  const t = o.tls
  const tls =
    t === undefined || t === null
      ? ''
      : createHash('sha256')
          .update(
            JSON.stringify([
              t.ca ?? null,
              t.cert ?? null,
              t.key ?? null,
              t.servername ?? null,
              t.verifyDepth ?? null,
            ]),
          )
          .digest('base64')
  return `${o.protocol}://${o.host}:${o.port}|${o.connectTimeout}|${o.tlsVerify ? 1 : 0}|${tls}`
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
    const key = poolKey(o)
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
      connect: connector(o),
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

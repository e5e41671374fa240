import type { Cluster, Redis } from 'ioredis'

/**
 * The node's shared services, injected into plugins at build time (plugins never import a
 * store or the metrics registry). They outlive any one runtime: state kept here survives a
 * config reload.
 */
export interface PluginServices {
  /**
   * The node's shared Redis (`PORTICO_REDIS_URL`), or per-plugin settings (`config.redis`).
   * Throws a `RedisUnavailableError`-style error with a clear message when none is configured,
   * so a plugin asking for Redis refuses to load.
   */
  redis(settings?: RedisSettings): RedisConnection
  /** key prefix for every key Portico writes (`portico:` by default) */
  readonly keyPrefix: string
  /** node-level event bus (runtime swaps, purges): name → payload */
  readonly events: NodeEvents
  /** a per-plugin-instance bag that survives reloads (keyed by plugin id) */
  shared<T>(key: string, init: () => T): T
  /**
   * Serve a JSON document at `path` on the status listener (and on the proxy listener when the
   * node exposes status there), e.g. `/cachez`. Registering the same path again replaces it.
   */
  exposeStatus(path: string, render: () => unknown | Promise<unknown>): void
}

/** Kong's per-plugin Redis fields (`config.redis.*`). */
export interface RedisSettings {
  host?: string | undefined
  port?: number | undefined
  password?: string | undefined
  username?: string | undefined
  database?: number | undefined
  ssl?: boolean | undefined
  /** verify the server certificate with `ssl` (Kong's default false) */
  ssl_verify?: boolean | undefined
  /** TLS server name (SNI) */
  server_name?: string | undefined
  timeout?: number | undefined
}

export interface RedisConnection {
  readonly client: Redis | Cluster
  /** every call in the request path must finish within this (ms) */
  readonly deadlineMs: number
  /** true while the connection is ready */
  readonly ready: boolean
}

export interface NodeEvents {
  on(event: string, listener: (payload: unknown) => void): () => void
  emit(event: string, payload: unknown): void
}

/**
 * Where the rate-limiting plugin keeps its node-wide counters:
 * `services.shared(RATE_LIMITING_STATS, …)` returns one {@link RateLimitingStats} object that
 * every instance increments in place (monotonic since the node started). A metrics exporter
 * reads it with the same call; nothing else is needed to stay in sync.
 *
 * @example
 *   const s = services.shared<RateLimitingStats>(RATE_LIMITING_STATS, newRateLimitingStats)
 *   registry.counter('portico_rate_limit_store_failures_total', () => s.failedOpen + s.failedClosed)
 */
export const RATE_LIMITING_STATS = 'rate-limiting:stats'

export interface RateLimitingStats {
  /** requests the limiter let through with room left */
  allowed: number
  /** requests refused (429 or the configured error_code) */
  rejected: number
  /** requests let through without a verdict because the store failed (fault_tolerant) */
  failedOpen: number
  /** requests answered 500 because the store failed and fault_tolerant is off */
  failedClosed: number
  /** store calls that missed their deadline */
  timeouts: number
  /** store calls that failed (error reply, connection down, breaker open) */
  errors: number
}

export function newRateLimitingStats(): RateLimitingStats {
  return { allowed: 0, rejected: 0, failedOpen: 0, failedClosed: 0, timeouts: 0, errors: 0 }
}

/** Node-wide counters of the request-queue plugin (same pattern as {@link RATE_LIMITING_STATS}). */
export const REQUEST_QUEUE_STATS = 'request-queue:stats'

export interface RequestQueueStats {
  /** requests that got a slot at once */
  admitted: number
  /** requests that got a slot after waiting in the queue */
  dequeued: number
  /** requests refused because the queue was full */
  rejectedFull: number
  /** requests refused after waiting max_wait_ms */
  rejectedTimeout: number
  /** clients that went away while waiting */
  abandoned: number
  /** requests let through without a slot because Redis failed (fault_tolerant) */
  failedOpen: number
  /** requests answered 500 because Redis failed and fault_tolerant is off */
  failedClosed: number
  /** gauges: requests holding a slot / waiting, on this node */
  inFlight: number
  waiting: number
}

export function newRequestQueueStats(): RequestQueueStats {
  return {
    admitted: 0,
    dequeued: 0,
    rejectedFull: 0,
    rejectedTimeout: 0,
    abandoned: 0,
    failedOpen: 0,
    failedClosed: 0,
    inFlight: 0,
    waiting: 0,
  }
}

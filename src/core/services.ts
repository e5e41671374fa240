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

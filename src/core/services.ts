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
   * node exposes status there), e.g. a plugin's `/<name>z`. Registering the same path again replaces it.
   */
  exposeStatus(path: string, render: () => unknown | Promise<unknown>): void
  /**
   * A new in-process LRU bounded by bytes, with per-entry expiry (a plugin's in-process store).
   * Keep it in {@link shared} to survive reloads. A `name` lists it among the node's memory
   * stores (`kong_memory_lua_shared_dict_bytes{shared_dict=name}`); the same name again
   * replaces the listed one.
   */
  memoryCache<V>(budgetBytes: number, name?: string): MemoryCache<V>
  /**
   * A blob store with fill locks on the node's Redis (or `config.redis`), one per Redis,
   * shared by every instance. Throws like {@link redis} when no Redis is configured.
   */
  redisCache(settings?: RedisSettings): RedisCache
}

/**
 * A byte-bounded LRU with per-entry expiry. Reads are synchronous and allocation-free, so a
 * cache hit never leaves the request's tick.
 *
 * @example
 *   const lru = services.memoryCache<Buffer>(64 * 1024 * 1024)
 *   lru.set('k', body, body.length, 30_000)
 *   lru.get('k')   // → body, until it expires or is evicted
 */
export interface MemoryCache<V> {
  get(key: string): V | undefined
  /** stores `value` (costing `bytes`) for `ttlMs`; evicts least recently used entries past the budget */
  set(key: string, value: V, bytes: number, ttlMs: number): void
  delete(key: string): boolean
  clear(): void
  /** drops expired entries, then counts what is left */
  stats(): { entries: number; bytes: number; budget: number }
  /** bytes allowed; lowering it evicts at once */
  budget: number
}

/** What {@link RedisCache.waitForFill} saw: the key was filled, its filler gave up, or the wait ran out. */
export type FillOutcome = 'filled' | 'released' | 'timeout'

/**
 * Blobs in Redis for a plugin's shared tier, with the fill lock that collapses misses across nodes and a
 * node-to-node notice channel (purges, fills). Keys are the plugin's own; the
 * store prefixes and hash-tags them. Request-path calls reject after `deadlineMs`.
 *
 * @example
 *   if (await rc.lock(key, token, 5000)) { … fetch …; await rc.set(key, blob, 60_000); await rc.release(key, token) }
 *   else if ((await rc.waitForFill(key, 5000)) === 'filled') blob = await rc.get(key)
 */
export interface RedisCache {
  readonly deadlineMs: number
  readonly ready: boolean
  get(key: string): Promise<Buffer | null>
  set(key: string, value: Buffer, ttlMs: number): Promise<void>
  delete(key: string): Promise<boolean>
  /** removes every cache key of this prefix (all nodes' entries); resolves with how many */
  flush(): Promise<number>
  /** `SET NX PX`: true when the caller now holds `key`'s fill lock */
  lock(key: string, token: string, ttlMs: number): Promise<boolean>
  /** drops the lock if `token` still holds it and wakes the nodes waiting for `key` */
  release(key: string, token: string, filled: boolean): Promise<void>
  /** waits (pub/sub, with a polling fallback) until `key` is filled or released, at most `boundMs` */
  waitForFill(key: string, boundMs: number): Promise<FillOutcome>
  /** sends a notice to every node subscribed to this Redis (this one included) */
  publish(notice: string): Promise<void>
  subscribe(listener: (notice: string) => void): () => void
  /** cache entries and their bytes (a bounded SCAN: for status pages, not the request path) */
  stats(): Promise<{ entries: number; bytes: number }>
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
  /**
   * Call right before a request-path command: the commands of one event-loop turn then leave
   * in one write instead of one syscall each.
   */
  coalesce(): void
}

export interface NodeEvents {
  on(event: string, listener: (payload: unknown) => void): () => void
  emit(event: string, payload: unknown): void
}

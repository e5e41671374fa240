import type { NodePeers } from './peers.js'

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
  /**
   * The node's primary process when this process is one of several workers of the node
   * (`--workers`), undefined when the process is the whole node.
   */
  readonly peers?: NodePeers | undefined
  /** a per-plugin-instance bag that survives reloads (keyed by plugin id) */
  shared<T>(key: string, init: () => T): T
  /**
   * Serve a JSON document at `path` on the status listener (and on the proxy listener when the
   * node exposes status there), e.g. a plugin's `/<name>z`. Registering the same path again replaces it.
   */
  exposeStatus(path: string, render: () => unknown | Promise<unknown>): void
  /**
   * Adds a section to the status listener's `/healthz` (read at each request, synchronously, so
   * it must be cheap): what a plugin knows that an operator checking the node's health needs,
   * e.g. its breakers. The same name again replaces the section.
   */
  exposeHealth(section: string, render: () => unknown): void
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
  /**
   * Receives the notices; `resync` runs when the subscriber is back after a disconnection
   * (`reconnected`: notices may have been missed) or first subscribed (see RedisConnection.listen).
   */
  listen(listener: (notice: string) => void, resync?: (reconnected: boolean) => void): () => void
  /** cache entries and their bytes (a bounded SCAN: for status pages, not the request path) */
  stats(): Promise<{ entries: number; bytes: number }>
}

/**
 * Kong 3.x's per-plugin Redis fields (`config.redis.*`, kong/tools/redis/schema.lua). With
 * `cluster_nodes` the plugin talks to a Redis Cluster, with `sentinel_nodes` + `sentinel_master`
 * to the master a Sentinel group names; otherwise to `host:port`.
 */
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
  /** Redis Cluster seed nodes (Kong's `cluster_nodes`: `[{ ip, port }]`) */
  cluster_nodes?: ReadonlyArray<{ ip: string; port: number }> | undefined
  /** MOVED/ASK redirections followed per command (Kong's default 5) */
  cluster_max_redirections?: number | undefined
  /** Sentinel nodes (Kong's `sentinel_nodes: [{ host, port }]`) and the master they name */
  sentinel_nodes?: ReadonlyArray<{ host: string; port: number }> | undefined
  sentinel_master?: string | undefined
  sentinel_username?: string | undefined
  sentinel_password?: string | undefined
}

/** An argument of a Redis command. */
export type RedisArg = string | number | Buffer

/** A call that failed: `code` tells a missed deadline from an open breaker or a Redis error. */
export type RedisCallback<R> = (err: Error | null, res: R | undefined) => void

/**
 * A Lua script on one connection: loaded once (`EVALSHA`, `EVAL` only after `NOSCRIPT`), every
 * call raced against a deadline and gated by the connection's breaker. `argv` is the keys first
 * (as many as the script declares), then the arguments. Keys of one call must share a hash tag.
 *
 * @example
 *   const commit = conn.script<number>('config-commit', COMMIT_LUA, 1)
 *   const v = await commit.run([key, expected, doc], { deadlineMs: 2000, background: true })
 */
export interface RedisScript<R> {
  readonly name: string
  run(argv: readonly RedisArg[], options?: RedisCallOptions): Promise<R>
  /**
   * Callback form for the request path (no promise per call): `done` runs once, with the reply
   * or the error (deadline, breaker, Redis); `late` gets a reply that came after the deadline.
   */
  send(
    argv: readonly RedisArg[],
    options: RedisCallOptions | undefined,
    done: RedisCallback<R>,
    late?: (res: R) => void,
  ): void
}

export interface RedisCallOptions {
  /** the call fails with `PORTICO_REDIS_DEADLINE` after this (default: the connection's) */
  deadlineMs?: number
  /**
   * Background work (admin, config sync, catch-up): not refused while the breaker is open, so a
   * blip on the request path does not fail an admin write; its outcome still feeds the breaker.
   */
  background?: boolean
}

/** Breaker states: closed (calls go), open (calls fail at once), half-open (one probe in flight). */
export type RedisBreakerState = 'closed' | 'open' | 'half-open'

/**
 * One Redis (a server, a Sentinel group or a Cluster), shared by every feature of the node that
 * points at it. Built by the stores layer; core and plugins see only this interface.
 *
 * Request-path rules (DESIGN §2.7): no offline queue, every call has a deadline, and one breaker
 * per connection: after a failure or a missed deadline calls fail at once for a short while,
 * then one call probes.
 */
export interface RedisConnection {
  /** `single`, `sentinel` or `cluster` */
  readonly mode: 'single' | 'sentinel' | 'cluster'
  /** every call in the request path must finish within this (ms) */
  readonly deadlineMs: number
  /** true while the connection is ready */
  readonly ready: boolean
  readonly breaker: RedisBreakerState
  /** false while the connection is down or its breaker is open (the caller applies its failure mode) */
  available(): boolean
  /** waits (at most `ms`) for a connection still making its first connection; never rejects */
  whenReady(ms: number): Promise<void>
  /** a Lua script, defined once per connection and name */
  script<R>(name: string, lua: string, numberOfKeys: number): RedisScript<R>
  /** one command (`get`, `hmget`, …) with the deadline and the breaker */
  call<R>(command: string, argv: readonly RedisArg[], options?: RedisCallOptions): Promise<R>
  /** `GET` as bytes */
  getBuffer(key: string, options?: RedisCallOptions): Promise<Buffer | null>
  /**
   * Listens on `channel` through the node's one subscriber connection for this Redis (sharded
   * pub/sub on Cluster). `resync` runs after every (re)connection of the subscriber, once its
   * channels are subscribed again and this connection is ready (`reconnected` is false for the
   * listener's first subscription): messages sent while it was away are lost, the feature
   * catches up. Returns the unsubscribe.
   */
  listen(
    channel: string,
    handler: (message: string) => void,
    resync?: (reconnected: boolean) => void,
  ): () => void
  /** `PUBLISH` (`SPUBLISH` on Cluster) */
  publish(channel: string, message: string, options?: RedisCallOptions): Promise<void>
  /** SCANs every master for `match`; `each` returns false to stop (status and admin calls only) */
  scan(
    match: string,
    each: (keys: string[], del: (keys: string[]) => Promise<number>) => Promise<boolean | undefined>,
  ): Promise<void>
}

/**
 * A key in Portico's layout: `<prefix><kind>:{<tag>}<rest>`. Everything in braces decides the
 * Cluster slot, so keys built with the same tag can meet in one script.
 *
 * @example
 *   redisKey('portico:', 'rl', 'plugin-id:i:10.0.0.1') // → 'portico:rl:{plugin-id:i:10.0.0.1}'
 */
export function redisKey(prefix: string, kind: string, tag: string, rest = ''): string {
  return `${prefix}${kind}:{${tag}}${rest}`
}

export interface NodeEvents {
  on(event: string, listener: (payload: unknown) => void): () => void
  emit(event: string, payload: unknown): void
}

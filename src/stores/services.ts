import { EventEmitter } from 'node:events'
import type {
  MemoryCache,
  NodeEvents,
  PluginServices,
  RedisCache,
  RedisConnection,
  RedisSettings,
} from '../core/services.js'
import type { MemoryStoreView } from '../core/telemetry.js'
import { ByteLru } from './memory/lru.js'
import { RedisCacheStore } from './redis/cache.js'
import { writeCoalescer } from './redis/coalesce.js'
import { connectRedis, settingsToUrl } from './redis/connect.js'

export interface ServicesOptions {
  /** the node's shared Redis, or undefined when none is configured */
  redisUrl: string | undefined
  keyPrefix: string
  /** per-call deadline in the request path (ms) */
  redisDeadlineMs: number
}

/** Raised when a plugin asks for Redis and the node has none: the plugin refuses to load. */
export class RedisNotConfiguredError extends Error {
  constructor() {
    super("this plugin needs Redis: set PORTICO_REDIS_URL (or REDIS_URL), or the plugin's config.redis.host")
    this.name = 'RedisNotConfiguredError'
  }
}

/**
 * The node's services for plugins: Redis connections (one per distinct URL, created on first
 * use and shared), an event bus, and state that survives reloads.
 */
export class NodeServices implements PluginServices {
  readonly keyPrefix: string
  readonly events: NodeEvents
  readonly #emitter = new EventEmitter()
  readonly #connections = new Map<string, RedisConnection>()
  readonly #shared = new Map<string, unknown>()
  readonly #caches = new Map<RedisConnection, RedisCacheStore>()
  readonly #memoryStores = new Map<string, MemoryCache<unknown>>()
  /** JSON status documents plugins expose (`/cachez`); the node mounts them on its listeners */
  readonly statusDocuments = new Map<string, () => unknown | Promise<unknown>>()

  constructor(readonly options: ServicesOptions) {
    this.keyPrefix = options.keyPrefix
    this.#emitter.setMaxListeners(0)
    const em = this.#emitter
    this.events = {
      on(event, listener) {
        em.on(event, listener)
        return () => em.off(event, listener)
      },
      emit(event, payload) {
        em.emit(event, payload)
      },
    }
  }

  redis(settings?: RedisSettings): RedisConnection {
    const url = settings?.host ? settingsToUrl(settings) : this.options.redisUrl
    if (url === undefined) throw new RedisNotConfiguredError()
    let conn = this.#connections.get(url)
    if (conn === undefined) {
      const client = connectRedis(url)
      client.on('error', () => {}) // state is read from `status`; errors surface per call
      const deadlineMs = settings?.timeout ?? this.options.redisDeadlineMs
      conn = {
        client,
        deadlineMs,
        coalesce: writeCoalescer(client),
        get ready() {
          return client.status === 'ready'
        },
      }
      this.#connections.set(url, conn)
    }
    return conn
  }

  /** connection states for /healthz */
  redisStatus(): Array<{ url: string; status: string }> {
    return [...this.#connections].map(([url, c]) => ({
      url: url.replace(/\/\/[^@]*@/, '//***@'),
      status: c.client.status,
    }))
  }

  exposeStatus(path: string, render: () => unknown | Promise<unknown>): void {
    this.statusDocuments.set(path, render)
    this.events.emit('status:exposed', path)
  }

  memoryCache<V>(budgetBytes: number, name?: string): MemoryCache<V> {
    const lru = new ByteLru<V>(budgetBytes)
    if (name !== undefined) this.#memoryStores.set(name, lru as MemoryCache<unknown>)
    return lru
  }

  /** the named memory caches: bytes held (expired entries dropped first) and budget, for scrapes */
  memoryStores(): MemoryStoreView[] {
    return [...this.#memoryStores].map(([name, lru]) => {
      const { bytes, budget } = lru.stats()
      return { name, bytes, budget }
    })
  }

  redisCache(settings?: RedisSettings): RedisCache {
    const conn = this.redis(settings)
    let store = this.#caches.get(conn)
    if (store === undefined) {
      store = new RedisCacheStore(conn, this.keyPrefix)
      this.#caches.set(conn, store)
    }
    return store
  }

  shared<T>(key: string, init: () => T): T {
    if (!this.#shared.has(key)) this.#shared.set(key, init())
    return this.#shared.get(key) as T
  }

  async close(): Promise<void> {
    const caches = [...this.#caches.values()]
    this.#caches.clear()
    await Promise.all(caches.map((c) => c.close()))
    const all = [...this.#connections.values()]
    this.#connections.clear()
    await Promise.all(all.map((c) => c.client.quit().catch(() => c.client.disconnect())))
  }
}

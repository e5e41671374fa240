import { EventEmitter } from 'node:events'
import { type Logger, silentLogger } from '../core/logger.js'
import type { NodePeers } from '../core/peers.js'
import type { MemoryCache, NodeEvents, PluginServices, RedisCache, RedisSettings } from '../core/services.js'
import type { MemoryStoreView } from '../core/telemetry.js'
import { ByteLru } from './memory/lru.js'
import type { RedisLink } from './redis/link.js'
import { type RedisLinkStatus, SharedConnections } from './redis/links.js'

export { RedisNotConfiguredError } from './redis/links.js'

export interface ServicesOptions {
  /** the node's shared Redis, or undefined when none is configured */
  redisUrl: string | undefined
  keyPrefix: string
  /** per-call deadline in the request path (ms) */
  redisDeadlineMs: number
  /** where breakers log that a Redis fails and answers again */
  log?: Logger
  /** the node's primary, when this process is one of its workers */
  peers?: NodePeers | undefined
}

/**
 * The node's services for plugins: Redis connections (one per distinct URL, created on first
 * use and shared), an event bus, and state that survives reloads.
 */
export class NodeServices implements PluginServices {
  readonly keyPrefix: string
  readonly events: NodeEvents
  readonly peers: NodePeers | undefined
  readonly #emitter = new EventEmitter()
  readonly #links: SharedConnections
  readonly #shared = new Map<string, unknown>()
  readonly #memoryStores = new Map<string, MemoryCache<unknown>>()
  /** JSON status documents plugins expose (`/cachez`); the node mounts them on its listeners */
  readonly statusDocuments = new Map<string, () => unknown | Promise<unknown>>()

  constructor(readonly options: ServicesOptions) {
    this.keyPrefix = options.keyPrefix
    this.peers = options.peers
    this.#links = new SharedConnections(
      options.redisUrl,
      options.redisDeadlineMs,
      options.log ?? silentLogger,
    )
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

  /** One connection per distinct Redis (target and credentials), shared by every feature and plugin. */
  redis(settings?: RedisSettings): RedisLink {
    return this.#links.get(settings)
  }

  /** The node's own Redis when one is configured (and connected from now on), else null. */
  nodeRedis(): RedisLink | null {
    return this.#links.configured ? this.#links.get() : null
  }

  /** connection states for /healthz and /metrics */
  redisStatus(): RedisLinkStatus[] {
    return this.#links.status()
  }

  /** sections plugins add to the status listener's /healthz */
  readonly healthSections = new Map<string, () => unknown>()

  exposeHealth(section: string, render: () => unknown): void {
    this.healthSections.set(section, render)
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
    return this.#links.cache(this.redis(settings), this.keyPrefix)
  }

  shared<T>(key: string, init: () => T): T {
    if (!this.#shared.has(key)) this.#shared.set(key, init())
    return this.#shared.get(key) as T
  }

  async close(): Promise<void> {
    await this.#links.close()
  }
}

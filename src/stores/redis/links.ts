import type { Logger } from '../../core/logger.js'
import type { RedisSettings } from '../../core/services.js'
import { RedisCacheStore } from './cache.js'
import { parseRedisUrl, type RedisTarget, settingsToTarget, targetKey } from './connect.js'
import { RedisLink } from './link.js'

/** Raised when a plugin asks for Redis and the node has none: the plugin refuses to load. */
export class RedisNotConfiguredError extends Error {
  constructor() {
    super("this plugin needs Redis: set PORTICO_REDIS_URL (or REDIS_URL), or the plugin's config.redis.host")
    this.name = 'RedisNotConfiguredError'
  }
}

/** What /healthz and /metrics show of one Redis connection. */
export interface RedisLinkStatus {
  url: string
  mode: string
  status: string
  breaker: string
  breaker_opened: number
  timeouts: number
  errors: number
}

/**
 * Every Redis connection of a node: one per distinct Redis (target and credentials), created on
 * first use and shared by every feature and plugin instance pointing at it, whether it came
 * from `PORTICO_REDIS_URL` or a plugin's `config.redis`; and proxy-cache's store on each.
 *
 * @example
 *   const links = new SharedConnections('redis+cluster://127.0.0.1:7000,127.0.0.1:7001', 50, log)
 *   links.get({ sentinel_nodes: [{ host: '127.0.0.1', port: 26379 }], sentinel_master: 'm' })
 */
export class SharedConnections {
  readonly #links = new Map<string, RedisLink>()
  readonly #caches = new Map<RedisLink, RedisCacheStore>()
  /** the node's own Redis, parsed once (a bad URL stops the node at start, not at first use) */
  readonly #nodeTarget: RedisTarget | undefined

  constructor(
    nodeUrl: string | undefined,
    readonly deadlineMs: number,
    readonly log: Logger,
  ) {
    this.#nodeTarget = nodeUrl === undefined ? undefined : parseRedisUrl(nodeUrl)
  }

  get configured(): boolean {
    return this.#nodeTarget !== undefined
  }

  /** The connection for per-plugin settings (when they name a Redis), else the node's. */
  get(settings?: RedisSettings): RedisLink {
    const custom =
      settings !== undefined &&
      (settings.host !== undefined ||
        (settings.cluster_nodes?.length ?? 0) > 0 ||
        (settings.sentinel_nodes?.length ?? 0) > 0)
    const target = custom ? settingsToTarget(settings) : this.#nodeTarget
    if (target === undefined) throw new RedisNotConfiguredError()
    const key = targetKey(target)
    let link = this.#links.get(key)
    if (link === undefined) {
      link = new RedisLink(target, this.deadlineMs, this.log)
      this.#links.set(key, link)
    }
    return link
  }

  cache(link: RedisLink, keyPrefix: string): RedisCacheStore {
    let store = this.#caches.get(link)
    if (store === undefined) {
      store = new RedisCacheStore(link, keyPrefix)
      this.#caches.set(link, store)
    }
    return store
  }

  status(): RedisLinkStatus[] {
    return [...this.#links.values()].map((l) => ({
      url: l.name,
      mode: l.mode,
      status: l.status,
      breaker: l.breaker,
      breaker_opened: l.breakerOf.opened,
      timeouts: l.timeouts,
      errors: l.errors,
    }))
  }

  async close(): Promise<void> {
    const caches = [...this.#caches.values()]
    this.#caches.clear()
    await Promise.all(caches.map((c) => c.close()))
    const all = [...this.#links.values()]
    this.#links.clear()
    await Promise.all(all.map((l) => l.close()))
  }
}

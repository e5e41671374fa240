import type { AdminResponse, AdminRoute } from '../../core/admin.js'
import { reply } from '../../core/errors.js'
import type { PluginDefinition } from '../../core/plugin.js'
import type { RedisSettings } from '../../core/services.js'
import { redisSettings } from '../kit/redis/settings.js'
import { ProxyCache } from './cache.js'
import { describe } from './entry.js'
import { compileKey } from './key.js'
import { type CacheInstance, type CacheNode, cacheNode } from './node.js'
import { compileRules } from './rules.js'
import { type ProxyCacheConfig, schema } from './schema.js'
import { CACHE_STATUS } from './state.js'
import { proxyCachePrimary } from './workers.js'

/** The kit's settings for `config.redis`, with Kong's `read_timeout` standing in for `timeout`. */
function cacheRedisSettings(c: ProxyCacheConfig): RedisSettings | undefined {
  const settings = redisSettings(c.redis)
  return settings === undefined
    ? undefined
    : { ...settings, timeout: c.redis?.timeout ?? c.redis?.read_timeout }
}

const NOT_FOUND: AdminResponse = reply(null, 'NOT_FOUND')

async function guarded(run: () => Promise<AdminResponse>): Promise<AdminResponse> {
  try {
    return await run()
  } catch (err) {
    return reply(null, 'INTERNAL', { message: (err as Error).message })
  }
}

/**
 * Kong's proxy-cache Admin API: purge everything, look up or purge one key (in any instance,
 * or in one plugin's), answering 204 / 200 with the entry / 404 `{"message":"Not found"}`.
 * A purge reaches every node's in-process tier through Redis when the node has one.
 */
function adminRoutes(node: CacheNode): AdminRoute[] {
  const instance = (id: string | undefined): CacheInstance | undefined =>
    id === undefined ? undefined : node.instances.get(id)
  // one parameter name for the first segment: it is a cache key in `/proxy-cache/:key` and a
  // plugin id in `/proxy-cache/:key/caches/:cache_key`, and the admin router refuses two names
  // at one position
  return [
    {
      method: 'DELETE',
      path: '/proxy-cache',
      handle: () =>
        guarded(async () => {
          await node.purge({ all: true })
          return { status: 204 }
        }),
    },
    {
      method: 'GET',
      path: '/proxy-cache/:key',
      handle: (req) =>
        guarded(async () => {
          const e = await node.find(req.params.key ?? '')
          return e === null ? NOT_FOUND : { status: 200, body: describe(e) }
        }),
    },
    {
      method: 'DELETE',
      path: '/proxy-cache/:key',
      handle: (req) =>
        guarded(async () =>
          (await node.purge({ key: req.params.key ?? '' })) ? { status: 204 } : NOT_FOUND,
        ),
    },
    {
      method: 'GET',
      path: '/proxy-cache/:key/caches/:cache_key',
      handle: (req) =>
        guarded(async () => {
          const inst = instance(req.params.key)
          const e = inst === undefined ? null : await node.find(req.params.cache_key ?? '', inst)
          return e === null ? NOT_FOUND : { status: 200, body: describe(e) }
        }),
    },
    {
      method: 'DELETE',
      path: '/proxy-cache/:key/caches/:cache_key',
      handle: (req) =>
        guarded(async () => {
          const inst = instance(req.params.key)
          if (inst === undefined) return NOT_FOUND
          return (await node.purge({ key: req.params.cache_key ?? '' }, inst)) ? { status: 204 } : NOT_FOUND
        }),
    },
  ]
}

/**
 * proxy-cache (Kong priority 100): caches upstream responses in memory or in Redis (with an
 * in-process tier in front), keyed on route, consumer, method, host, path, query and the
 * configured and the responses' own Vary headers; collapses concurrent misses (across nodes
 * with Redis), serves stale entries while revalidating or when the upstream fails, and never
 * stores private, `Set-Cookie`, 5xx or unkeyed-authenticated responses. `/cachez` reports it.
 *
 * @example
 *   plugins:
 *     - name: proxy-cache
 *       config: { strategy: memory, cache_ttl: 30, stale_while_revalidate: 10 }
 */
export const proxyCache: PluginDefinition<ProxyCacheConfig> = {
  name: 'proxy-cache',
  priority: 100,
  schema,
  create(config, env) {
    const node = cacheNode(env.services)
    const settings = cacheRedisSettings(config)
    // redis strategy without a Redis: this throws, and the plugin refuses to load
    const redis = config.strategy === 'redis' ? env.services.redisCache(settings) : null
    const memory =
      config.strategy === 'memory'
        ? node.dictionary(config.memory.dictionary_name, env.id, config.memory_budget_bytes)
        : node.frontTier(env.id, config.memory_budget_bytes)
    const { inst, detach } = node.attach(env.id, {
      scope: env.scope,
      strategy: config.strategy,
      ttl: config.cache_ttl,
      memory,
      dictionary: config.strategy === 'memory' ? config.memory.dictionary_name : null,
      redis,
      bus: redis ?? node.busFor(settings),
    })
    const rh = config.response_headers
    return new ProxyCache(
      compileRules(config),
      compileKey(config),
      inst,
      node,
      { age: rh.age, status: rh['X-Cache-Status'], key: rh['X-Cache-Key'] },
      config.key_includes_consumer,
      env.log,
      detach,
    )
  },
  adminRoutes: (services) => adminRoutes(cacheNode(services)),
  primary: proxyCachePrimary,
  telemetry(t) {
    t.outcome(CACHE_STATUS, {
      metric: 'portico_cache_requests_total',
      help: 'Cache outcomes (proxy-cache)',
      label: 'status',
      logField: 'cache',
      cacheHit: 'Hit',
    })
  },
}

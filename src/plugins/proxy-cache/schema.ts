import { z } from 'zod'
import { integer, unsupported } from '../../config/fields.js'
import { redisTopologyShape, topologyIssues } from '../../config/redis-topology.js'

const seconds = z.number().int()

/**
 * Kong's per-plugin Redis fields (proxy-cache-advanced's `config.redis`), Sentinel and Cluster
 * included. Without `host`, `cluster_nodes` or `sentinel_nodes` the plugin uses the node's
 * `PORTICO_REDIS_URL`. Connection-pool fields have no meaning for one multiplexed connection:
 * accepted at Kong's defaults only.
 */
export const redisSchema = z
  .strictObject({
    host: z.string().min(1).optional().describe('Redis host; absent: the node’s PORTICO_REDIS_URL'),
    port: z.number().int().min(0).max(65535).default(6379).describe('Redis port (Kong: 6379)'),
    username: z.string().optional().describe('ACL user name'),
    password: z.string().optional().describe('password (AUTH)'),
    database: z.number().int().min(0).default(0).describe('database number (Kong: 0)'),
    ssl: z.boolean().default(false).describe('connect over TLS (Kong: false)'),
    ssl_verify: z.boolean().default(false).describe('verify the server certificate (Kong: false)'),
    timeout: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('deadline of each Redis call, ms (Kong: 2000); absent: the node’s deadline'),
    connect_timeout: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Kong field, ms; not a per-call deadline'),
    send_timeout: z.number().int().positive().optional().describe('Kong field, ms; not a per-call deadline'),
    read_timeout: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('deadline of each Redis call, ms, when `timeout` is absent'),
    keepalive_pool_size: z
      .literal(256)
      .optional()
      .describe('Kong: 256; one multiplexed connection in Portico, so only the default is accepted'),
    keepalive_backlog: unsupported('redis.keepalive_backlog'),
    server_name: z.string().optional().describe('TLS server name (SNI) to send and verify'),
    ...redisTopologyShape,
    sentinel_addresses: unsupported('redis.sentinel_addresses (use sentinel_nodes)'),
    cluster_addresses: unsupported('redis.cluster_addresses (use cluster_nodes)'),
    connection_is_proxied: z.literal(false).optional().describe('Kong: false; only the default is accepted'),
  })
  .superRefine((r, ctx) => topologyIssues(r, ctx))
  .describe('Redis connection for `strategy: redis` and for purge notices (Kong-style fields)')

/** Statuses never stored whatever the config: 400 answers a malformed request, 5xx a failure. */
export function neverCachedStatus(status: number): boolean {
  return status === 400 || (status >= 500 && status <= 599)
}

/**
 * proxy-cache (Kong 3.x fields, plus Portico's Redis strategy, byte budgets, stale serving and
 * opt-in POST caching).
 *
 * @example
 *   schema.parse({ strategy: 'memory' }).cache_ttl   // → 300
 */
export const schema = z.strictObject({
  response_code: z
    .array(
      integer(100, 900).refine((s) => !neverCachedStatus(s), {
        message: 'Portico never caches 400 or 5xx responses',
      }),
    )
    .min(1)
    .default(() => [200, 301, 404])
    .describe('upstream statuses considered cacheable (Kong: [200, 301, 404]); 400 and 5xx never are'),
  request_method: z
    .array(z.enum(['HEAD', 'GET', 'POST', 'PATCH', 'PUT']))
    .default(() => ['GET', 'HEAD'] as Array<'GET' | 'HEAD'>)
    .describe(
      'request methods considered cacheable (Kong: [GET, HEAD]); for POST/PUT/PATCH a sha256 of the body is part of the key',
    ),
  content_type: z
    .array(z.string().min(1))
    .default(() => ['text/plain', 'application/json'])
    .describe(
      'cacheable response content types, matched on type/subtype and parameters; `type/*` and `*/*` allowed (Kong: [text/plain, application/json])',
    ),
  cache_ttl: z.number().int().positive().default(300).describe('seconds an entry is fresh (Kong: 300)'),
  strategy: z
    .enum(['memory', 'redis'])
    .describe('where entries live: `memory` (per node) or `redis` (shared, with an in-process tier)'),
  cache_control: z
    .boolean()
    .default(false)
    .describe('honour Cache-Control (RFC 9111) in requests and responses (Kong: false)'),
  ignore_uri_case: z.boolean().default(false).describe('lower-case the path in the cache key (Kong: false)'),
  storage_ttl: seconds
    .positive()
    .optional()
    .describe('seconds entries are kept in the store, independent of freshness (Kong: unset)'),
  memory: z
    .strictObject({
      dictionary_name: z
        .string()
        .min(1)
        .default('kong_db_cache')
        .describe('instances naming the same dictionary share one in-process LRU (Kong: kong_db_cache)'),
    })
    .default(() => ({ dictionary_name: 'kong_db_cache' }))
    .describe('memory strategy settings'),
  vary_query_params: z
    .array(z.string().min(1))
    .optional()
    .describe('query parameters in the key; unset: all of them, sorted (Kong)'),
  vary_headers: z
    .array(z.string().min(1))
    .optional()
    .describe('request headers in the key; unset: none (the response’s own Vary is honoured anyway)'),
  response_headers: z
    .strictObject({
      age: z.boolean().default(true).describe('send Age on hits (Kong: true)'),
      'X-Cache-Status': z.boolean().default(true).describe('send X-Cache-Status and X-Cache (Kong: true)'),
      'X-Cache-Key': z.boolean().default(true).describe('send X-Cache-Key (Kong: true)'),
    })
    .default(() => ({ age: true, 'X-Cache-Status': true, 'X-Cache-Key': true }))
    .describe('diagnostic headers; a request with Kong-Debug gets them all'),
  redis: redisSchema.optional(),
  max_body_bytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024)
    .describe('largest response body stored, and largest request body hashed for cache_post (bytes)'),
  memory_budget_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024)
    .describe(
      'bytes of the in-process LRU (the memory strategy’s store, the redis strategy’s front tier); instances sharing a memory dictionary share the largest of their budgets',
    ),
  stale_while_revalidate: seconds
    .min(0)
    .default(0)
    .describe('seconds past freshness an entry is still served while one background request refreshes it'),
  stale_if_error: seconds
    .min(0)
    .default(0)
    .describe('seconds past freshness an entry is served when the upstream fails (connection, 5xx, timeout)'),
  cache_post: z
    .boolean()
    .default(false)
    .describe('cache POST (and configured PUT/PATCH) with a sha256 of the body in the key'),
  key_includes_consumer: z
    .boolean()
    .default(true)
    .describe(
      'key on the authenticated consumer; when false, authenticated requests are never cached (Kong: always keyed)',
    ),
})

export type ProxyCacheConfig = z.output<typeof schema>

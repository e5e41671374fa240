import { z } from 'zod'
import { host, port } from '../../../config/fields.js'
import type { RedisSettings } from '../../../core/services.js'

/**
 * Kong 3.x's `config.redis` record (kong/tools/redis/schema.lua), shared by the plugins that use
 * Redis. Without `host` the plugin uses the node's Redis (`PORTICO_REDIS_URL`).
 *
 * `timeout` has no default here on purpose: Kong's is 2000 ms, far too long to hold a request in
 * a rate limiter or a queue. Unset, the node's Redis deadline applies (50 ms by default).
 *
 * @example
 *   redisRecord.parse({ host: 'redis.internal', port: 6380 }) // → { host, port, database: 0, ssl: false, ssl_verify: false }
 */
export const redisRecord = z
  .strictObject({
    host: host.optional().describe('Redis host; unset: the node Redis (PORTICO_REDIS_URL)'),
    port: port.optional().describe('Redis port (6379 when a host is set and the port is not)'),
    timeout: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 2)
      .optional()
      .describe("ms every Redis call may take (Kong's default 2000; unset: the node deadline, 50 ms)"),
    username: z.string().optional().describe('Redis ACL username (Redis 6+)'),
    password: z.string().optional().describe('Redis password; unset: no AUTH'),
    database: z.number().int().min(0).default(0).describe('Redis database number (default 0)'),
    ssl: z.boolean().default(false).describe('connect with TLS (default false)'),
    ssl_verify: z
      .boolean()
      .default(false)
      .describe("verify the server's TLS certificate (Kong's default false)"),
    server_name: z.string().optional().describe('TLS server name (SNI) to send and verify'),
  })
  .describe("Kong's Redis settings for the redis policy")

export type RedisRecord = z.output<typeof redisRecord>

/** Kong's deprecated flat fields (`redis_host` …) and where each lands in `redis`. */
export const LEGACY_REDIS_FIELDS = {
  redis_host: 'host',
  redis_port: 'port',
  redis_password: 'password',
  redis_username: 'username',
  redis_ssl: 'ssl',
  redis_ssl_verify: 'ssl_verify',
  redis_server_name: 'server_name',
  redis_timeout: 'timeout',
  redis_database: 'database',
} as const

/** The legacy fields as zod shape entries (accepted, then folded into `redis`). */
export const legacyRedisShape = {
  redis_host: z.string().optional().describe('deprecated: config.redis.host'),
  redis_port: z.number().int().optional().describe('deprecated: config.redis.port'),
  redis_password: z.string().optional().describe('deprecated: config.redis.password'),
  redis_username: z.string().optional().describe('deprecated: config.redis.username'),
  redis_ssl: z.boolean().optional().describe('deprecated: config.redis.ssl'),
  redis_ssl_verify: z.boolean().optional().describe('deprecated: config.redis.ssl_verify'),
  redis_server_name: z.string().optional().describe('deprecated: config.redis.server_name'),
  redis_timeout: z.number().int().optional().describe('deprecated: config.redis.timeout'),
  redis_database: z.number().int().optional().describe('deprecated: config.redis.database'),
}

/**
 * Moves Kong's deprecated `redis_*` fields into `redis` before validation, as Kong's shorthand
 * fields do. A legacy field that contradicts the `redis` record is an error, not a silent pick.
 *
 * @example
 *   foldLegacyRedis({ redis_host: 'r', minute: 5 }) // → { minute: 5, redis: { host: 'r' } }
 */
export function foldLegacyRedis(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input
  const src = input as Record<string, unknown>
  if (!Object.keys(LEGACY_REDIS_FIELDS).some((k) => src[k] !== undefined)) return input
  const out: Record<string, unknown> = {}
  const redis: Record<string, unknown> =
    typeof src.redis === 'object' && src.redis !== null ? { ...(src.redis as object) } : {}
  for (const [k, v] of Object.entries(src)) {
    const target = LEGACY_REDIS_FIELDS[k as keyof typeof LEGACY_REDIS_FIELDS]
    if (target === undefined || v === undefined) {
      out[k] = v
      continue
    }
    if (redis[target] !== undefined && redis[target] !== v) {
      // keep both so the schema reports the conflict at the legacy field
      out[k] = v
      continue
    }
    redis[target] = v
  }
  out.redis = redis
  return out
}

/** The legacy keys left after folding are conflicts: report each at its own path. */
export function legacyConflicts(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const [k, target] of Object.entries(LEGACY_REDIS_FIELDS)) {
    if (value[k] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: `conflicts with config.redis.${target} (${k} is the deprecated form of it)`,
      })
    }
  }
}

/** The settings to ask `services.redis()` for; null: the node's Redis. */
export function redisSettings(r: RedisRecord | undefined): RedisSettings | undefined {
  if (r?.host === undefined) return undefined
  return {
    host: r.host,
    port: r.port ?? 6379,
    username: r.username,
    password: r.password,
    database: r.database,
    ssl: r.ssl,
    ssl_verify: r.ssl_verify,
    server_name: r.server_name,
  }
}

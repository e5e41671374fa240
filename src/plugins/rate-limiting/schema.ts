import { z } from 'zod'
import { headerName, path } from '../../config/fields.js'
import { foldLegacyRedis, legacyConflicts, legacyRedisShape, redisRecord } from '../kit/redis/settings.js'
import { PERIODS } from './windows.js'

const limit = (period: string) =>
  z.number().gt(0).optional().describe(`requests allowed per ${period} (Kong: a number > 0)`)

/**
 * The rate-limiting config: every field of Kong 3.x's schema (kong/plugins/rate-limiting/
 * schema.lua), with Kong's defaults, plus Portico's `algorithm`, `burst`, `scope_name` and
 * `local_max_keys`.
 *
 * - `policy: cluster` (Kong's database-backed counters) means the same thing as `redis` in
 *   Portico, whose shared store is Redis: a Kong file written for the cluster policy keeps
 *   counting across nodes, and loads only where Redis is configured.
 * - `sync_rate` is accepted at -1 only: Portico's redis policy is exact (never above the limit),
 *   which is what -1 means in Kong; Kong's batched syncing would trade exactness away. Portico
 *   takes the round trip off the request path by leasing instead (`lease: true`, the default,
 *   lease.ts); `lease: false` is one call per request, as Kong's -1.
 * - `redis.host` is optional: without it the node's Redis is used (Kong requires it).
 *
 * @example
 *   schema.parse({ minute: 100, limit_by: 'ip', policy: 'redis' })
 */
export const schema = z
  .preprocess(
    foldLegacyRedis,
    z
      .strictObject({
        second: limit('second'),
        minute: limit('minute'),
        hour: limit('hour'),
        day: limit('day'),
        month: limit('month'),
        year: limit('year'),
        limit_by: z
          .enum(['consumer', 'credential', 'ip', 'service', 'header', 'path'])
          .default('consumer')
          .describe(
            'what a counter belongs to (default consumer); consumer, credential, header and path fall back to the client IP when the request has none',
          ),
        header_name: headerName.optional().describe('the header whose value is counted (limit_by header)'),
        path: path.optional().describe('the path that is counted as one (limit_by path)'),
        policy: z
          .enum(['local', 'cluster', 'redis'])
          .default('local')
          .describe('where counters live (default local: this node); redis (and cluster) share them'),
        fault_tolerant: z
          .boolean()
          .default(true)
          .describe('when the store fails, let requests through (default true) instead of answering 500'),
        redis: redisRecord.optional(),
        hide_client_headers: z
          .boolean()
          .default(false)
          .describe('send no rate-limit headers, Retry-After included (as Kong)'),
        error_code: z.number().gt(0).default(429).describe('status of a refusal (default 429)'),
        error_message: z
          .string()
          .default('API rate limit exceeded')
          .describe('message of a refusal (default "API rate limit exceeded")'),
        sync_rate: z
          .literal(-1, {
            error:
              'only -1 is supported: Portico records every request in the shared store synchronously (exact across nodes)',
          })
          .default(-1)
          .describe("Kong's counter sync interval; Portico's redis policy is always exact (-1)"),
        ...legacyRedisShape,
        // Portico's own fields
        // the default since leasing holds its bar (scripts/rate-limit-lease.ts: 3 nodes, L = 500,
        // 4L offered: accepted / L 1.000 and under 0.05 Redis calls per admitted request on every
        // algorithm; never above the limit on Cluster and Sentinel, test/redis/rate-limit-lease-ha)
        lease: z
          .boolean()
          .default(true)
          .describe(
            'policy redis: true (default) takes quota from Redis in blocks sized to the traffic and admits from them locally, never above the limit; false: one Redis call per request (Kong sync_rate -1)',
          ),
        algorithm: z
          .enum(['fixed-window', 'sliding-window', 'token-bucket'])
          .default('fixed-window')
          .describe(
            'fixed-window (default, Kong), sliding-window (weighted two-window counter), token-bucket (GCRA)',
          ),
        burst: z
          .number()
          .int()
          .gt(0)
          .optional()
          .describe('token-bucket capacity of the shortest configured window (default: its limit)'),
        scope_name: z
          .string()
          .regex(/^[A-Za-z0-9._~-]+$/, 'expected letters, digits and . _ ~ -')
          .optional()
          .describe('the name RateLimit-Scope and RateLimit-Policy give this limit (default from limit_by)'),
        local_max_keys: z
          .number()
          .int()
          .min(1)
          .default(1_000_000)
          .describe('local policy: most clients tracked at once (default 1,000,000; the oldest is dropped)'),
      })
      .superRefine((c, ctx) => {
        legacyConflicts(c, ctx)
        const set = PERIODS.filter((p) => c[p.name] !== undefined)
        if (set.length === 0) {
          ctx.addIssue({
            code: 'custom',
            message:
              "at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'",
          })
        }
        // Kong's order check: a longer period may not allow fewer requests than a shorter one
        for (let i = 0; i < set.length; i++) {
          for (let j = i + 1; j < set.length; j++) {
            const lo = set[i]!
            const hi = set[j]!
            const v1 = c[lo.name]!
            const v2 = c[hi.name]!
            if (v2 < v1) {
              ctx.addIssue({
                code: 'custom',
                path: [hi.name],
                message: `The limit for ${hi.name}(${v2.toFixed(1)}) cannot be lower than the limit for ${lo.name}(${v1.toFixed(1)})`,
              })
            }
          }
        }
        if (c.limit_by === 'header' && c.header_name === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['header_name'],
            message: 'required field missing (limit_by header)',
          })
        }
        if (c.limit_by === 'path' && c.path === undefined) {
          ctx.addIssue({ code: 'custom', path: ['path'], message: 'required field missing (limit_by path)' })
        }
        if (c.burst !== undefined && c.algorithm !== 'token-bucket') {
          ctx.addIssue({
            code: 'custom',
            path: ['burst'],
            message: 'burst applies to algorithm token-bucket only',
          })
        }
        if (c.redis !== undefined && c.policy === 'local' && c.redis.host !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['redis', 'host'],
            message: 'redis settings need policy redis',
          })
        }
      }),
  )
  .describe('rate-limiting')

export type Config = z.output<typeof schema>

/** RateLimit-Scope's default: what a limit_by counts, "global" for a service-wide limit. */
export const DEFAULT_SCOPE: Record<Config['limit_by'], string> = {
  service: 'global',
  consumer: 'consumer',
  credential: 'credential',
  ip: 'ip',
  header: 'header',
  path: 'path',
}

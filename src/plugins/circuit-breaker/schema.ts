import { z } from 'zod'
import { redisRecord } from '../kit/redis/settings.js'

const percent = (what: string, dflt: number) =>
  z
    .number()
    .min(1)
    .max(100)
    .default(dflt)
    .describe(`${what} (percent of the calls in the window, default ${dflt})`)

const status = z.number().int().min(100).max(599)

/**
 * The circuit-breaker config (Portico's own plugin; Resilience4j's model with Envoy's outlier
 * ejection for `scope: target`). Every field has a default, so `{}` is a working breaker.
 *
 * @example
 *   schema.parse({}) // → { window_seconds: 10, minimum_calls: 20, failure_rate_threshold: 50, … }
 */
export const schema = z
  .strictObject({
    window_seconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(10)
      .describe('length of the sliding window the failure and slow rates are taken over (s, default 10)'),
    minimum_calls: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(20)
      .describe('calls the window must hold before the breaker may open (default 20)'),
    failure_rate_threshold: percent('failure rate at which the breaker opens', 50),
    failure_statuses: z
      .array(status)
      .default([500, 502, 503, 504])
      .describe(
        'upstream statuses that count as failures (default [500, 502, 503, 504]); connection failures and timeouts always count',
      ),
    slow_call_ms: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 2)
      .default(0)
      .describe(
        'a call whose answer takes longer than this (ms, to the response headers) is slow; 0: off (default)',
      ),
    slow_call_rate_threshold: percent('slow-call rate at which the breaker opens', 100),
    open_seconds: z
      .number()
      .min(0.1)
      .max(86_400)
      .default(30)
      .describe(
        'how long the breaker stays open before trial calls (s, default 30); doubles after each failed trial',
      ),
    max_open_seconds: z
      .number()
      .min(0.1)
      .max(86_400)
      .default(300)
      .describe('longest the doubling may make an open period (s, default 300)'),
    half_open_calls: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe(
        'trial calls let through when the open period ends, across every node on the redis policy; all must succeed to close (default 5)',
      ),
    scope: z
      .enum(['service', 'target'])
      .default('service')
      .describe(
        'service: one breaker for the service (default); target: one per upstream target, an open target leaves the balancer and the others keep serving',
      ),
    policy: z
      .enum(['local', 'redis'])
      .default('local')
      .describe(
        'local: each node learns on its own (default; a node with workers keeps one state for all of them); redis: outcomes and state shared by every node on that Redis',
      ),
    redis: redisRecord
      .optional()
      .describe("Kong's Redis settings for the redis policy (default: the node's Redis)"),
    response: z
      .strictObject({
        status: status.default(503).describe('status of the fast failure (default 503)'),
        body: z
          .string()
          .optional()
          .describe(
            'body of the fast failure; unset: {"message":"…","request_id":"…"} as every gateway error',
          ),
        content_type: z
          .string()
          .default('application/json; charset=utf-8')
          .describe('Content-Type of a configured body (default application/json; charset=utf-8)'),
        headers: z
          .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a header name'), z.string())
          .default({})
          .describe('extra headers of the fast failure; Retry-After (the time left open) is always sent'),
      })
      .prefault({})
      .describe('the answer a request gets while the breaker is open (no upstream call)'),
  })
  .superRefine((c, ctx) => {
    if (c.max_open_seconds < c.open_seconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_open_seconds'],
        message: 'must be at least open_seconds',
      })
    }
    if (c.redis !== undefined && c.policy === 'local' && c.redis.host !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'host'], message: 'redis settings need policy redis' })
    }
  })
  .describe('circuit-breaker')

export type Config = z.output<typeof schema>

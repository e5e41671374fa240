import { z } from 'zod'
import { redisRecord } from '../kit/redis/settings.js'

/**
 * The request-queue config (Portico's own plugin, no Kong counterpart): at most `concurrency`
 * requests of one scope upstream at once, the rest waiting first in, first out.
 *
 * `queue_size` and the wait are per node: on the redis policy the slots are shared by every
 * node, and each node keeps its own queue of requests waiting for one.
 *
 * @example
 *   schema.parse({ concurrency: 4 })
 *   // → { concurrency: 4, queue_size: 100, max_wait_ms: 30000, limit_by: 'route', policy: 'local', … }
 */
export const schema = z
  .strictObject({
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10)
      .describe('requests of one scope sent upstream at once; the rest wait (default 10)'),
    queue_size: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(100)
      .describe('requests that may wait for a slot, per scope and node; past it 503 at once (default 100)'),
    max_wait_ms: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 2)
      .default(30_000)
      .describe('longest wait for a slot (ms); past it 503 (default 30000)'),
    limit_by: z
      .enum(['route', 'consumer'])
      .default('route')
      .describe(
        'what one set of slots belongs to (default route); consumer falls back to the credential, then the client IP',
      ),
    policy: z
      .enum(['local', 'redis'])
      .default('local')
      .describe('where slots are counted (default local: this node); redis: one limit across every node'),
    lease_ms: z
      .number()
      .int()
      .min(100)
      .max(2 ** 31 - 2)
      .default(10_000)
      .describe(
        'redis policy: a slot lease lasts this long and is renewed every third of it while its request runs, so slots of a node that died come back after it (default 10000)',
      ),
    poll_ms: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(200)
      .describe(
        'redis policy: waiters also ask Redis this often, for slots freed without a notice (an expired lease, a lost message) (default 200)',
      ),
    fault_tolerant: z
      .boolean()
      .default(true)
      .describe(
        'redis policy: when Redis fails, let requests through without a slot (default true) instead of answering 500',
      ),
    redis: redisRecord
      .optional()
      .describe("Kong's Redis settings for the redis policy (default: the node's Redis)"),
    hide_client_headers: z
      .boolean()
      .default(false)
      .describe('send no X-Queue-Wait-Ms header (default false)'),
  })
  .superRefine((c, ctx) => {
    if (c.redis !== undefined && c.policy === 'local' && c.redis.host !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'host'], message: 'redis settings need policy redis' })
    }
  })
  .describe('request-queue')

export type Config = z.output<typeof schema>

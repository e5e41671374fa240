import { createHash } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import type { PluginDefinition, PluginEnv, PluginInstance } from '../../core/plugin.js'
import { redisSettings } from '../kit/redis/settings.js'
import { NodeSlots, requestQueuePrimary } from './node-slots.js'
import { type QueueLimits, RequestQueue } from './queue.js'
import { LeaseStore } from './redis-slots.js'
import { type Config, schema } from './schema.js'
import { newRequestQueueStats, REQUEST_QUEUE_STATS, type RequestQueueStats, telemetry } from './stats.js'

/** Identifiers longer than this are hashed, so a huge value cannot make a huge key. */
const MAX_ID = 200

/** Which set of slots a request takes from, with a kind prefix so kinds never collide. */
function scopeOf(config: Config): (ctx: RequestContext) => string {
  if (config.limit_by === 'route') return (ctx) => `r:${ctx.route?.id ?? ''}`
  return (ctx) => {
    const who = ctx.consumer ?? ctx.credential
    if (who !== null) return `c:${who.id}`
    const ip = `i:${ctx.clientIp}`
    return ip.length <= MAX_ID ? ip : `x:${createHash('sha256').update(ip).digest('base64url')}`
  }
}

function limitsOf(config: Config): QueueLimits {
  return {
    concurrency: config.concurrency,
    queueSize: config.queue_size,
    maxWaitMs: config.max_wait_ms,
    leaseMs: config.lease_ms,
    pollMs: config.poll_ms,
    faultTolerant: config.fault_tolerant,
    waitHeader: !config.hide_client_headers,
  }
}

async function create(config: Config, env: PluginEnv): Promise<PluginInstance> {
  const stats = env.services.shared<RequestQueueStats>(REQUEST_QUEUE_STATS, newRequestQueueStats)
  const scope = scopeOf(config)
  const ticketKey = `request-queue:${env.id}`
  let queue: RequestQueue
  const peers = env.services.peers
  if (config.policy === 'local') {
    // kept across reloads, so a new runtime counts the slots the draining one still holds; a
    // node with workers counts them in its primary (node-slots.ts)
    queue = env.services.shared(`${env.id}:request-queue:local:${config.limit_by}`, () =>
      peers === undefined
        ? new RequestQueue(limitsOf(config), stats, null)
        : new RequestQueue(limitsOf(config), stats, new NodeSlots(peers), (id) => `${env.id}:${id}`),
    )
  } else {
    // throws when no Redis is configured, so the plugin refuses to load
    const settings = redisSettings(config.redis)
    const conn = env.services.redis(settings)
    await conn.whenReady(1000)
    const deadlineMs = config.redis?.timeout ?? conn.deadlineMs
    const where = settings === undefined ? 'node' : `${settings.host}:${settings.port}/${settings.database}`
    const head = `${env.services.keyPrefix}rq:{${env.id}:`
    queue = env.services.shared(
      `${env.id}:request-queue:redis:${config.limit_by}:${where}:${deadlineMs}`,
      () =>
        new RequestQueue(
          limitsOf(config),
          stats,
          new LeaseStore(conn, deadlineMs, env.services.keyPrefix, (timeout) => {
            if (timeout) stats.timeouts++
            else stats.errors++
          }),
          (id) => `${head}${id}}`,
        ),
    )
  }
  queue.configure(limitsOf(config))
  if (queue.refs++ === 0) queue.open()
  const finish = (ctx: RequestContext): void => queue.finish(ctx, ticketKey)
  return {
    // a WebSocket's log phase runs when its tunnel closes: it holds the slot until then
    access: (ctx) => queue.enter(ctx, scope(ctx), ticketKey),
    log: finish,
    close() {
      if (--queue.refs === 0) queue.close()
    },
  }
}

/**
 * Portico's request-queue: at most `concurrency` requests of a route (or a consumer) upstream at
 * once, the others waiting first in, first out, up to `queue_size` of them for up to
 * `max_wait_ms`; past either, 503 with Retry-After. A slot is given back in the log phase, which
 * runs when the response ends, fails or the client goes away, so none is ever kept.
 *
 * Priority 1: it runs after authentication, rate limiting and the cache, so only requests that
 * really go upstream take a slot.
 *
 * @example
 *   plugins:
 *     - name: request-queue
 *       route: infer-python
 *       config: { concurrency: 4, queue_size: 50, max_wait_ms: 10000, policy: redis }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'request-queue',
  priority: 1,
  schema,
  create,
  telemetry,
  primary: requestQueuePrimary,
}

import { createHash } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import { GatewayError, reply } from '../../core/errors.js'
import type { AccessResult, PluginDefinition, PluginEnv, PluginInstance, Reply } from '../../core/plugin.js'
import { slot } from '../../core/slot.js'
import { redisSettings } from '../kit/redis/settings.js'
import { type Algorithm, FIXED, type Limit, SLIDING, TOKEN } from './algorithms.js'
import { HeaderSet, seconds } from './headers.js'
import { LeaseLimiter, leaseInstance, RedisQuota } from './lease.js'
import { LocalCounters } from './local-store.js'
import { type CompiledLimit, nodeLimitInstance } from './node-counters.js'
import { rateLimitingPrimary } from './node-primary.js'
import { SharedLimiter } from './redis-store.js'
import { type Config, DEFAULT_SCOPE, schema } from './schema.js'
import {
  newRateLimitingStats,
  RATE_LIMIT,
  RATE_LIMITING_STATS,
  type RateLimitingStats,
  telemetry,
} from './stats.js'
import { PERIODS } from './windows.js'

const ALGORITHMS: Record<Config['algorithm'], Algorithm> = {
  'fixed-window': FIXED,
  'sliding-window': SLIDING,
  'token-bucket': TOKEN,
}

/** Per-request record shared by the rate-limiting instances of one route (when they compose). */
interface Composed {
  /** where the first instance's headers start in ctx.responseHeaders, -1 before it wrote */
  start: number
  /** give back what earlier instances recorded when a later one refuses */
  undo: Array<() => void>
}
const COMPOSED = slot<Composed | null>('rate-limiting.composed', null)

/** Identifiers longer than this are hashed, so a huge header value cannot make a huge key. */
const MAX_ID = 200

/** The windows a config sets, in period order; `burst` sizes the shortest one's bucket. */
export function compileLimits(config: Config): Limit[] {
  const token = config.algorithm === 'token-bucket'
  return PERIODS.filter((p) => config[p.name] !== undefined).map((p, i) => {
    const limit = config[p.name]!
    return {
      code: p.code,
      size: p.size,
      limit,
      capacity: token && i === 0 && config.burst !== undefined ? config.burst : limit,
      interval: p.size / limit,
    }
  })
}

/** How a request is told apart (Kong's get_identifier), with a kind prefix so kinds never collide. */
function identifier(config: Config): (ctx: RequestContext) => string {
  const ip = (ctx: RequestContext) => `i:${ctx.clientIp}`
  const bounded = (id: string) =>
    id.length <= MAX_ID ? id : `x:${createHash('sha256').update(id).digest('base64url')}`
  switch (config.limit_by) {
    case 'consumer':
      return (ctx) => {
        const who = ctx.consumer ?? ctx.credential
        return who !== null ? `c:${who.id}` : ip(ctx)
      }
    case 'credential':
      return (ctx) => (ctx.credential !== null ? `k:${ctx.credential.id}` : ip(ctx))
    case 'service':
      return (ctx) => (ctx.service !== null ? `s:${ctx.service.id}` : ip(ctx))
    case 'header': {
      const name = config.header_name!.toLowerCase()
      return (ctx) => {
        const v = ctx.header(name)
        return v !== undefined ? bounded(`h:${v}`) : ip(ctx)
      }
    }
    case 'path': {
      const path = config.path!
      const id = `p:${path}`
      return (ctx) => (ctx.path === path ? id : ip(ctx))
    }
    default:
      return ip
  }
}

/** Another enabled rate-limiting instance on exactly this scope: the two compose on a request. */
function composes(env: PluginEnv): boolean {
  const s = env.scope
  return env.document.plugins.some(
    (p) =>
      p.name === 'rate-limiting' &&
      p.id !== env.id &&
      p.enabled &&
      p.route?.id === s.route &&
      p.service?.id === s.service &&
      p.consumer?.id === s.consumer,
  )
}

/** What one instance compiled from its config (node-counters.ts). */
type Compiled = CompiledLimit

async function create(config: Config, env: PluginEnv): Promise<PluginInstance> {
  const c = compile(config, env)
  return config.policy === 'local' ? localInstance(c) : redisInstance(c)
}

/** The instance's limits, identity and verdict steps (config time; nothing here runs per request). */
function compile(config: Config, env: PluginEnv): Compiled {
  const algo = ALGORITHMS[config.algorithm]
  const limits = compileLimits(config)
  const scope = config.scope_name ?? DEFAULT_SCOPE[config.limit_by]
  const headers = config.hide_client_headers ? null : new HeaderSet(limits, scope)
  const identify = identifier(config)
  const composed = composes(env)
  const stats = env.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, newRateLimitingStats)
  const refusal = { status: config.error_code, message: config.error_message }

  const refuse = (ctx: RequestContext, v: ArrayLike<number>): Reply => {
    stats.rejected++
    ctx.set(RATE_LIMIT, 'rejected')
    // Kong's hide_client_headers hides Retry-After as well
    if (headers === null) return reply(ctx, 'RATE_LIMITED', refusal)
    const h = { 'retry-after': String(seconds(v[1]!)), 'ratelimit-scope': scope }
    return reply(ctx, 'RATE_LIMITED', { ...refusal, headers: h })
  }

  /** Headers, composition and the reply for a verdict from either store. */
  const decide = (ctx: RequestContext, v: ArrayLike<number>, undo: (() => void) | null): AccessResult => {
    const allowed = v[0] === 0
    if (composed) {
      const rec = ctx.get(COMPOSED) ?? ctx.set(COMPOSED, { start: -1, undo: [] })
      if (headers !== null) {
        if (rec.start === -1) {
          rec.start = ctx.responseHeaders?.length ?? 0
          headers.emit(ctx, v as never)
        } else headers.merge(ctx, rec.start, v as never)
      }
      if (!allowed) {
        for (const u of rec.undo) u()
        rec.undo.length = 0
      } else if (undo !== null) rec.undo.push(undo)
    } else if (headers !== null) headers.emit(ctx, v as never)
    if (!allowed) return refuse(ctx, v)
    stats.allowed++
    ctx.set(RATE_LIMIT, 'allowed')
    return undefined
  }

  /** The store failed: Kong's fault_tolerant (through, no headers) or 500. */
  const storeFailed = (): AccessResult => {
    if (config.fault_tolerant) {
      stats.failedOpen++
      return undefined
    }
    stats.failedClosed++
    throw new GatewayError('INTERNAL', undefined, { cause: new Error('rate-limiting store unavailable') })
  }

  return { config, env, algo, limits, identify, composed, decide, storeFailed, stats }
}

/** The local policy: counters in this process, synchronous (no promise, no microtask). */
function localInstance(c: Compiled): PluginInstance {
  const { config, env, algo, limits, identify, composed, decide } = c
  // the table survives reloads; its layout depends on the algorithm, the windows and the cap
  const layout = `${algo}:${limits.map((l) => l.code).join(',')}:${config.local_max_keys}`
  // a node with workers counts in its primary (node-counters.ts)
  const peers = env.services.peers
  if (peers !== undefined) return nodeLimitInstance(peers, c, layout)
  const store = env.services.shared(
    `${env.id}:rate-limiting:local:${layout}`,
    () => new LocalCounters(algo, limits.length, config.local_max_keys),
  )
  store.refs++
  const out = new Float64Array(2 + 2 * limits.length)
  return {
    // synchronous: no promise, no microtask
    access(ctx) {
      const key = identify(ctx)
      const now = Date.now()
      const ok = store.consume(key, limits, now, out)
      return decide(ctx, out, ok && composed ? () => store.refund(key, limits, Date.now()) : null)
    },
    close() {
      if (--store.refs === 0) store.clear()
    },
  }
}

/** The redis policy (and Kong's cluster): throws when no Redis is configured, so the plugin refuses to load. */
async function redisInstance(c: Compiled): Promise<PluginInstance> {
  const { config, env, algo, limits, identify, composed, decide, storeFailed, stats } = c
  const conn = env.services.redis(redisSettings(config.redis))
  const deadlineMs = config.redis?.timeout ?? conn.deadlineMs
  // the first requests after a start are limited rather than let through
  await conn.whenReady(1000)
  const head = `${env.services.keyPrefix}rl:{${env.id}:`
  if (config.lease) {
    const leases = new LeaseLimiter(new RedisQuota(conn, algo, limits, deadlineMs), limits.length, stats)
    const key = (ctx: RequestContext) => `${head}${identify(ctx)}}`
    return leaseInstance(leases, { key, composed, decide, storeFailed })
  }
  const limiter = new SharedLimiter(conn, algo, limits, deadlineMs, stats)
  return {
    access(ctx) {
      const key = `${head}${identify(ctx)}}`
      if (!limiter.available()) return storeFailed()
      return new Promise<AccessResult>((resolve, reject) => {
        limiter.check(key, (v) => {
          try {
            if (v === null) resolve(storeFailed())
            else resolve(decide(ctx, v, v[0] === 0 && composed ? () => limiter.refund(key) : null))
          } catch (err) {
            reject(err)
          }
        })
      })
    },
  }
}

/**
 * Kong's rate-limiting plugin (priority 910) with Portico's algorithms, exact across nodes on
 * Redis (quota leased in blocks and admitted locally, `lease.ts`; or with `lease: false` one
 * script call per request; rejected requests not counted) and bounded in memory on
 * the local policy. See schema.ts for the fields and README.md beside this file for behaviour.
 *
 * @example
 *   plugins:
 *     - name: rate-limiting
 *       config: { second: 20, algorithm: token-bucket, burst: 40, limit_by: ip, scope_name: client }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'rate-limiting',
  priority: 910,
  schema,
  create,
  telemetry,
  primary: rateLimitingPrimary,
}

import type { RequestContext } from '../../core/context.js'
import type { ConfigDocument, ServiceEntity } from '../../core/entities.js'
import { reply } from '../../core/errors.js'
import type {
  AccessResult,
  PluginDefinition,
  PluginEnv,
  PluginInstance,
  UpstreamAttempt,
} from '../../core/plugin.js'
import { redisSettings } from '../kit/redis/settings.js'
import { breakerRoutes } from './admin.js'
import { LocalBreaker, thresholdsOf, type Verdict } from './breaker.js'
import { breakerPrimary } from './peer.js'
import { type BreakerEntry, type BreakerSpec, nodeBreakers } from './registry.js'
import { type Config, schema } from './schema.js'
import { TRIAL, telemetry, VERDICT } from './stats.js'
import { serviceTargets } from './targets.js'

/** The breakers of one service: its own (scope service) or one per target (scope target). */
interface ServiceBreakers {
  service: BreakerEntry | null
  targets: ReadonlyMap<string, BreakerEntry>
  all: readonly BreakerEntry[]
}

/** The services an instance guards: its service, its route's service, or every service (global). */
function guardedServices(
  doc: ConfigDocument,
  env: PluginEnv,
): { services: ServiceEntity[]; route: string | null } {
  const { scope } = env
  if (scope.service !== undefined)
    return { services: doc.services.filter((s) => s.id === scope.service), route: null }
  if (scope.route !== undefined) {
    const route = doc.routes.find((r) => r.id === scope.route)
    const sid = route?.service?.id
    return {
      services: doc.services.filter((s) => s.id === sid),
      route: route?.name ?? route?.id ?? null,
    }
  }
  return { services: doc.services.filter((s) => s.enabled), route: null }
}

/** Builds (or finds again, after a reload) every breaker of this instance. */
async function breakersOf(config: Config, env: PluginEnv): Promise<Map<string, ServiceBreakers>> {
  const reg = nodeBreakers(env.services, env.log)
  const thresholds = thresholdsOf(config)
  let redis: BreakerSpec['redis']
  // local policy on a node with workers: one state per node, kept by the primary (peer.ts)
  const peers = config.policy === 'local' ? env.services.peers : undefined
  if (config.policy === 'redis') {
    // throws when no Redis is configured, so the plugin refuses to load
    const conn = env.services.redis(redisSettings(config.redis))
    await conn.whenReady(1000)
    redis = { conn, deadlineMs: config.redis?.timeout ?? conn.deadlineMs, prefix: env.services.keyPrefix }
  }
  const { services, route } = guardedServices(env.document, env)
  const byService = new Map<string, ServiceBreakers>()
  const keep = new Set<string>()
  for (const s of services) {
    const base = {
      pluginId: env.id,
      service: s.name ?? s.id,
      route,
      policy: config.policy,
      thresholds,
      redis,
      peers,
    }
    const use = (id: string, target: string): BreakerEntry => {
      keep.add(id)
      return reg.use({ ...base, id, target })
    }
    if (config.scope === 'service') {
      const e = use(`${env.id}@${s.id}`, '')
      byService.set(s.id, { service: e, targets: new Map(), all: [e] })
    } else {
      const targets = new Map(
        serviceTargets(env.document, s).map((t) => [t, use(`${env.id}@${s.id}@${t}`, t)]),
      )
      byService.set(s.id, { service: null, targets, all: [...targets.values()] })
    }
  }
  reg.prune(env.id, keep)
  return byService
}

/** What one attempt's outcome is to the breaker. */
function judge(config: Config): (a: UpstreamAttempt) => { failed: boolean; slow: boolean } {
  const failing = new Set(config.failure_statuses)
  const slowMs = config.slow_call_ms
  return (a) => ({ failed: a.failure !== '' || failing.has(a.status), slow: slowMs > 0 && a.ms > slowMs })
}

/** The fast failure: the configured status, body and headers, and Retry-After (the time left open). */
function fastFailure(config: Config): (ctx: RequestContext, remainingMs: number) => AccessResult {
  const r = config.response
  const extra: Record<string, string> = {}
  for (const [k, v] of Object.entries(r.headers)) extra[k.toLowerCase()] = v
  if (r.body !== undefined) extra['content-type'] = r.content_type
  return (ctx, remainingMs) => {
    ctx.set(VERDICT, 'rejected')
    const headers = { ...extra, 'retry-after': String(Math.max(1, Math.ceil(remainingMs / 1000))) }
    return reply(ctx, 'CIRCUIT_OPEN', { status: r.status, headers, body: r.body })
  }
}

/** Sets the verdict of a service's breaker on this request; a reply when it failed fast. */
function decide(ctx: RequestContext, e: BreakerEntry, v: Verdict, fail: ReturnType<typeof fastFailure>) {
  if (v === 'reject') return fail(ctx, e.guard.remainingMs(Date.now()))
  ctx.set(VERDICT, v === 'trial' ? 'trial' : 'passed')
  if (v === 'trial') ctx.set(TRIAL, e)
  return undefined
}

async function create(config: Config, env: PluginEnv): Promise<PluginInstance> {
  const byService = await breakersOf(config, env)
  const reg = nodeBreakers(env.services, env.log)
  reg.hold(env.id)
  // one service (a plugin on a service or a route): no lookup per request
  const only = byService.size === 1 ? [...byService.values()][0]! : null
  const of = (ctx: RequestContext): ServiceBreakers | undefined =>
    only ?? (ctx.service === null ? undefined : byService.get(ctx.service.id))
  const outcome = judge(config)
  const fail = fastFailure(config)
  const perTarget = config.scope === 'target'

  const record = (ctx: RequestContext, e: BreakerEntry | undefined, a: UpstreamAttempt): void => {
    if (e === undefined) return
    const trial = ctx.get(TRIAL) === e
    if (trial) ctx.set(TRIAL, null)
    const { failed, slow } = outcome(a)
    e.guard.record(Date.now(), failed, slow, trial)
  }

  return {
    access(ctx) {
      const g = of(ctx)
      if (g === undefined) return undefined
      const now = Date.now()
      if (perTarget) {
        // fail fast only when every target is out; otherwise the balancer skips the open ones
        let left = Number.POSITIVE_INFINITY
        for (const e of g.all) {
          if (!e.guard.refuses(now)) {
            ctx.set(VERDICT, 'passed')
            return undefined
          }
          left = Math.min(left, e.guard.remainingMs(now))
        }
        return g.all.length === 0 ? undefined : fail(ctx, left)
      }
      const e = g.service!
      const v = e.guard.admit(now)
      // the open period is over and Redis (redis policy) or the primary (workers) is asked for a
      // trial call; wait for it
      const pending = v === 'reject' && !(e.guard instanceof LocalBreaker) ? e.guard.pendingTrial() : null
      if (pending !== null) return pending.then((v2) => decide(ctx, e, v2, fail))
      return decide(ctx, e, v, fail)
    },
    admits(ctx, target) {
      const g = of(ctx)
      const e = g === undefined ? undefined : perTarget ? g.targets.get(target) : g.service!
      // a trial call's own attempt goes; a retry after the breaker opened does not
      return e === undefined || ctx.get(TRIAL) === e || !e.guard.refuses(Date.now())
    },
    attemptStart: perTarget
      ? (ctx, target) => {
          const e = of(ctx)?.targets.get(target)
          if (e === undefined || e.guard.admit(Date.now()) !== 'trial') return
          ctx.set(TRIAL, e)
          ctx.set(VERDICT, 'trial')
        }
      : undefined,
    attemptEnd(ctx, a) {
      const g = of(ctx)
      if (g !== undefined) record(ctx, perTarget ? g.targets.get(a.target) : g.service!, a)
    },
    log(ctx) {
      // a trial call that never reached an upstream answer (the client left): give it back
      const trial = ctx.get(TRIAL)
      if (trial === null) return
      ctx.set(TRIAL, null)
      trial.guard.release()
    },
    close() {
      reg.release(env.id)
    },
  }
}

/**
 * Portico's circuit-breaker (Resilience4j's state machine; Envoy's outlier ejection with
 * `scope: target`). Closed, it counts each upstream attempt's outcome in a sliding window; past
 * the failure or slow-call rate (with at least `minimum_calls`) it opens, and requests fail fast
 * with the configured answer and Retry-After, no upstream call. After `open_seconds`,
 * `half_open_calls` trial calls go; all succeed: closed; one fails: open again, twice as long.
 * With `policy: redis` the window and the state are shared by every node (see shared.ts); with
 * `policy: local` on a node with workers, by its workers (the primary decides, see peer.ts).
 *
 * Priority 5: after authentication, rate limiting and the cache (a cached answer needs no
 * upstream, a refused client must not take a trial call), before request-queue (1), so a fast
 * failure never holds a queue slot.
 *
 * @example
 *   plugins:
 *     - name: circuit-breaker
 *       service: inference
 *       config: { failure_rate_threshold: 50, open_seconds: 10, policy: redis }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'circuit-breaker',
  priority: 5,
  schema,
  noConsumer:
    'a breaker guards a service or its targets, which every consumer shares; attach it to a service or a route',
  create,
  adminRoutes: breakerRoutes,
  telemetry,
  primary: breakerPrimary,
}

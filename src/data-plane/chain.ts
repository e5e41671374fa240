import type { RequestContext } from '../core/context.js'
import type { PluginEntity } from '../core/entities.js'
import type { AccessResult, PluginInstance, ResponseHead } from '../core/plugin.js'

/**
 * One plugin's place in a route's chain. Which configured instance applies is settled at
 * compile time (Kong's "most specific wins"), except for consumer-scoped instances: those
 * depend on who authenticated, so they sit in a map keyed by consumer id.
 */
export interface ChainStep {
  readonly name: string
  readonly priority: number
  /** the instance for requests without a consumer-specific one (null: plugin off for them) */
  readonly base: PluginInstance | null
  readonly byConsumer: ReadonlyMap<string, PluginInstance> | null
}

/** A route's compiled chain: per phase only the steps that have a handler there. */
export interface Chain {
  readonly access: readonly ChainStep[]
  /** reverse priority order */
  readonly response: readonly ChainStep[]
  readonly body: readonly ChainStep[]
  readonly log: readonly ChainStep[]
  /** every step, for describing the chain */
  readonly steps: readonly ChainStep[]
}

export const EMPTY_CHAIN: Chain = { access: [], response: [], body: [], log: [], steps: [] }

type Built = { entity: PluginEntity; instance: PluginInstance; priority: number }

/**
 * Builds the chain of one route (or of unmatched requests when `route` and `service` are null)
 * from every enabled plugin instance. Kong 3's precedence, most specific first:
 * consumer+route+service, consumer+route, consumer+service, route+service, consumer, route,
 * service, global.
 */
export function buildChain(built: readonly Built[], route: string | null, service: string | null): Chain {
  const byName = new Map<string, Built[]>()
  for (const b of built) {
    const list = byName.get(b.entity.name)
    if (list === undefined) byName.set(b.entity.name, [b])
    else list.push(b)
  }
  const steps: ChainStep[] = []
  for (const [name, list] of byName) {
    let best: Built | null = null
    let bestRank = 99
    const consumerBest = new Map<string, { b: Built; rank: number }>()
    for (const b of list) {
      const r = b.entity.route?.id ?? null
      const s = b.entity.service?.id ?? null
      const c = b.entity.consumer?.id ?? null
      if (r !== null && r !== route) continue
      if (s !== null && s !== service) continue
      if (c === null) {
        // route+service 0, route 1, service 2, global 3
        const rank = r !== null && s !== null ? 0 : r !== null ? 1 : s !== null ? 2 : 3
        if (rank < bestRank) {
          best = b
          bestRank = rank
        }
      } else {
        // consumer+route+service 0, consumer+route 1, consumer+service 2, consumer 3
        const rank = r !== null && s !== null ? 0 : r !== null ? 1 : s !== null ? 2 : 3
        const prev = consumerBest.get(c)
        if (prev === undefined || rank < prev.rank) consumerBest.set(c, { b, rank })
      }
    }
    if (best === null && consumerBest.size === 0) continue
    let byConsumer: Map<string, PluginInstance> | null = null
    if (consumerBest.size > 0) {
      byConsumer = new Map()
      // Kong ranks consumer+route above route+service, but a bare consumer instance only above
      // route and service ones: keep the route+service instance when it outranks the consumer's
      for (const [c, { b, rank }] of consumerBest) {
        byConsumer.set(c, rank === 3 && bestRank === 0 && best !== null ? best.instance : b.instance)
      }
    }
    const priority = (best ?? [...consumerBest.values()][0]!.b).priority
    steps.push({ name, priority, base: best?.instance ?? null, byConsumer })
  }
  steps.sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : 1))
  const has = (phase: keyof PluginInstance) => (s: ChainStep) =>
    s.base?.[phase] !== undefined || [...(s.byConsumer?.values() ?? [])].some((i) => i[phase] !== undefined)
  return {
    access: steps.filter(has('access')),
    response: steps.filter(has('response')).reverse(),
    body: steps.filter(has('body')).reverse(),
    log: steps.filter(has('log')),
    steps,
  }
}

/** The instance of a step that applies to this request. */
export function resolve(step: ChainStep, ctx: RequestContext): PluginInstance | null {
  if (step.byConsumer === null || ctx.consumer === null) return step.base
  return step.byConsumer.get(ctx.consumer.id) ?? step.base
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function'
}

/**
 * Runs the access phase. Stays synchronous (no promise, no microtask) until a handler actually
 * returns a promise: most requests go through sync plugins only.
 */
export function runAccess(chain: Chain, ctx: RequestContext, from = 0): AccessResult | Promise<AccessResult> {
  const steps = chain.access
  for (let i = from; i < steps.length; i++) {
    const inst = resolve(steps[i]!, ctx)
    if (inst?.access === undefined) continue
    const r = inst.access(ctx)
    if (r === undefined) continue
    if (isPromise<AccessResult>(r)) {
      return r.then((v) => (v !== undefined ? v : runAccess(chain, ctx, i + 1)))
    }
    return r
  }
  return undefined
}

/** Runs the response phase (reverse priority); synchronous unless a handler is async. */
export function runResponse(
  chain: Chain,
  ctx: RequestContext,
  head: ResponseHead,
  from = 0,
): void | Promise<void> {
  const steps = chain.response
  for (let i = from; i < steps.length; i++) {
    const inst = resolve(steps[i]!, ctx)
    if (inst?.response === undefined) continue
    const r = inst.response(ctx, head)
    if (isPromise<void>(r)) return r.then(() => runResponse(chain, ctx, head, i + 1))
  }
}

/** Runs the body hooks over a buffered body. */
export function runBody(chain: Chain, ctx: RequestContext, head: ResponseHead, body: Buffer): Buffer {
  let out = body
  for (const step of chain.body) {
    const inst = resolve(step, ctx)
    const r = inst?.body?.(ctx, head, out)
    if (r !== undefined) out = r
  }
  return out
}

/** Runs the log phase; a throwing handler is reported, never propagated. */
export function runLog(
  chain: Chain,
  ctx: RequestContext,
  onError: (name: string, err: unknown) => void,
): void {
  for (const step of chain.log) {
    const inst = resolve(step, ctx)
    if (inst?.log === undefined) continue
    try {
      inst.log(ctx)
    } catch (err) {
      onError(step.name, err)
    }
  }
}

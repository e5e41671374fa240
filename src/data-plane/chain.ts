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
  /** steps that watch upstream attempts (`admits`, `attemptStart`, `attemptEnd`): the proxy asks them */
  readonly upstream: readonly ChainStep[]
  /** every step, for describing the chain */
  readonly steps: readonly ChainStep[]
}

export const EMPTY_CHAIN: Chain = { access: [], response: [], body: [], log: [], upstream: [], steps: [] }

type Built = { entity: PluginEntity; instance: PluginInstance; priority: number }

/** Stands for "this plugin is off" in a consumer's slot of a step: no phase at all. */
const OFF: PluginInstance = {}

type Tier = { list: Built[]; rank: number }

function addToTier(tier: Tier | undefined, b: Built, rank: number): Tier {
  if (tier === undefined || rank < tier.rank) return { list: [b], rank }
  if (rank === tier.rank) tier.list.push(b)
  return tier
}

const byInstanceName = (a: Built, b: Built): number => {
  const x = a.entity.instance_name ?? ''
  const y = b.entity.instance_name ?? ''
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * Builds the chain of one route (or of unmatched requests when `route` and `service` are null)
 * from every enabled plugin instance. Kong 3's precedence, most specific first:
 * consumer+route+service, consumer+route, consumer+service, route+service, consumer, route,
 * service, global.
 *
 * Several instances of one plugin on the same scope (the config lets them in when they carry
 * distinct `instance_name`s) all apply, one step each, ordered by instance_name: that is how a
 * global limit and a per-client limit compose on one route. Precedence still picks the scope:
 * a route's pair of instances replaces a global one, as a single instance would.
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
    let best: Tier | undefined
    const consumerBest = new Map<string, Tier>()
    for (const b of list) {
      const r = b.entity.route?.id ?? null
      const s = b.entity.service?.id ?? null
      const c = b.entity.consumer?.id ?? null
      if (r !== null && r !== route) continue
      if (s !== null && s !== service) continue
      // route+service 0, route 1, service 2, global 3 (the same ranks with a consumer)
      const rank = r !== null && s !== null ? 0 : r !== null ? 1 : s !== null ? 2 : 3
      if (c === null) best = addToTier(best, b, rank)
      else consumerBest.set(c, addToTier(consumerBest.get(c), b, rank))
    }
    if (best === undefined && consumerBest.size === 0) continue
    const base = best?.list.sort(byInstanceName) ?? []
    const perConsumer = new Map<string, Built[]>()
    let width = base.length
    // Kong ranks consumer+route above route+service, but a bare consumer instance only above
    // route and service ones: keep the route+service instances when they outrank the consumer's
    for (const [c, tier] of consumerBest) {
      const chosen = tier.rank === 3 && best?.rank === 0 ? base : tier.list.sort(byInstanceName)
      perConsumer.set(c, chosen)
      width = Math.max(width, chosen.length)
    }
    const priority = (base[0] ?? [...consumerBest.values()][0]!.list[0]!).priority
    for (let i = 0; i < width; i++) {
      let byConsumer: Map<string, PluginInstance> | null = null
      if (perConsumer.size > 0) {
        byConsumer = new Map()
        // a consumer's own instances replace the base ones entirely: a missing one is OFF
        for (const [c, chosen] of perConsumer) byConsumer.set(c, chosen[i]?.instance ?? OFF)
      }
      steps.push({ name, priority, base: base[i]?.instance ?? null, byConsumer })
    }
  }
  // stable sort: instances of one plugin keep their instance_name order
  steps.sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const has = (phase: keyof PluginInstance) => (s: ChainStep) =>
    s.base?.[phase] !== undefined || [...(s.byConsumer?.values() ?? [])].some((i) => i[phase] !== undefined)
  return {
    access: steps.filter(has('access')),
    response: steps.filter(has('response')).reverse(),
    body: steps.filter(has('body')).reverse(),
    log: steps.filter(has('log')),
    upstream: steps.filter((s) => has('admits')(s) || has('attemptStart')(s) || has('attemptEnd')(s)),
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

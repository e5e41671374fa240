import type { RequestContext } from '../core/context.js'
import type { Slot } from '../core/slot.js'

/** Where a plugin keeps a request's outcome, and the value of it that means a cache hit. */
export interface HitSource {
  slot: Slot<string>
  value: string
}

/**
 * How analytics tells a rate-limited request and a cache hit (plugins own their facts; core
 * names none): a 429 is what every limiter answers; a cache hit is what a caching plugin
 * declared, when it registered its outcome, as its value for a hit (`cacheHit`). The only
 * place that reads either, so a change in how plugins report their outcome touches this file.
 */
export function rateLimited(ctx: RequestContext): boolean {
  return ctx.status === 429
}

/** A predicate over the declared hit sources (usually one): a slot read per source, no lookup. */
export function cacheHitTest(sources: readonly HitSource[]): (ctx: RequestContext) => boolean {
  if (sources.length === 0) return () => false
  return (ctx) => {
    for (const s of sources) if (ctx.get(s.slot) === s.value) return true
    return false
  }
}

import type { RequestContext } from '../core/context.js'

/**
 * How analytics tells a rate-limited request and a cache hit. The only place that reads
 * either: the context's fixed `cacheStatus` field today, the status for rate limits (a 429 is
 * what every limiter answers, whichever plugin it is), so a change in how plugins report their
 * outcome touches this file alone.
 */
export function rateLimited(ctx: RequestContext): boolean {
  return ctx.status === 429
}

export function cacheHit(ctx: RequestContext): boolean {
  return ctx.cacheStatus === 'Hit'
}

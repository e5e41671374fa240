import type { RequestContext } from '../core/context.js'

/**
 * How analytics tells a rate-limited request and a cache hit, from the response as the client
 * got it (plugins own their facts; core names none): a 429 is what every limiter answers, and
 * `X-Cache-Status: Hit` is what proxy-cache (Kong's header) sends on a hit. The only place that
 * reads either, so a change in how plugins report their outcome touches this file alone.
 */
export function rateLimited(ctx: RequestContext): boolean {
  return ctx.status === 429
}

export function cacheHit(ctx: RequestContext): boolean {
  return ctx.res.getHeader('x-cache-status') === 'Hit'
}

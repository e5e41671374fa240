import type { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import type { PluginInstance, Reply } from '../../core/plugin.js'
import type { CachedResponse } from './entry.js'
import type { Directives } from './http-rules.js'
import type { CacheInstance, CacheNode } from './node.js'
import type { Rules } from './rules.js'
import { CACHE_STATE, CACHE_STATUS, type CacheStatus, RequestState } from './state.js'

/**
 * The steps of a proxy-cache request that the lookup (cache.ts), the Redis tier (shared.ts) and
 * the store (store.ts) have in common: outcome, hit, going upstream, settling a collapsed fill,
 * releasing the Redis lock, arranging a background refresh.
 */

/** How long the redis strategy's in-process tier keeps an entry: a hot key costs no round trip. */
export const FRONT_TTL_MS = 1000
/** Lifetime of the fill lock in Redis: a node that dies holding it blocks the others this long. */
export const LOCK_TTL_MS = 5000
/** How long a node waits for another node's fill before going upstream itself. */
export const FILL_WAIT_MS = 5000

/** What the steps need of a configured instance (the instance itself: `ProxyCache`). */
export interface CacheParts extends PluginInstance {
  readonly r: Rules
  readonly inst: CacheInstance
  readonly node: CacheNode
  readonly logger: Logger
}

/** Sets the outcome on the request's state and on the context (logs, metrics). */
export function markStatus(ctx: RequestContext, s: RequestState, status: CacheStatus): void {
  s.status = status
  ctx.set(CACHE_STATUS, status)
}

/** Answers from the cache. */
export function hit(
  ctx: RequestContext,
  s: RequestState,
  e: CachedResponse,
  staleBy: RequestState['staleBy'] = '',
): Reply {
  s.entry = e
  s.key = e.key
  s.staleBy = staleBy
  markStatus(ctx, s, staleBy === '' ? 'Hit' : 'Stale')
  // proxied: a hit stands in for the upstream's answer (Kong's proxy-cache sets KONG_PROXIED)
  return {
    status: e.status,
    headers: e.headers as Record<string, string | string[]>,
    body: e.body,
    proxied: true,
  }
}

/** Going upstream: Miss or Refresh, or 504 when the client accepts only a cached answer. */
export function upstream(ctx: RequestContext, s: RequestState, cc: Directives): void {
  if (cc['only-if-cached'] !== undefined) {
    settle(s, null, null)
    s.store = false
    markStatus(ctx, s, 'Miss')
    throw new GatewayError('CACHE_ONLY_IF_CACHED')
  }
  markStatus(ctx, s, s.status === 'Refresh' ? 'Refresh' : 'Miss')
  // a HEAD answer has no body to store: GETs fill the entries HEADs are served from
  if (ctx.method === 'HEAD') s.store = false
}

/** Hands the outcome of the fill this request leads to the requests that wait on it. */
export function settle(s: RequestState, entry: CachedResponse | null, stale: CachedResponse | null): void {
  const fill = s.fill
  if (fill === null) return
  s.fill = null
  fill.settle(entry, stale)
}

/** Gives up the Redis fill lock (or wakes the waiters), once. */
export function release(c: CacheParts, s: RequestState, filled: boolean): void {
  if (s.lockDone || (s.lockToken === '' && !filled) || c.inst.redis === null) return
  s.lockDone = true
  // without a lock (a filler that stopped waiting) the release only wakes the waiters
  c.inst.redis.release(s.waitKey || s.key, s.lockToken || '-', filled).catch(() => {})
}

/** The response will not be stored after all (too big, cut short, changed late). */
export function dropped(c: CacheParts, s: RequestState): void {
  settle(s, null, null)
  release(c, s, false)
}

/**
 * Arranges one background refresh of a stale entry (stale_while_revalidate): at most one per
 * key on this node, and with Redis one across nodes (the fill lock, taken by the refresh).
 * The data plane continues a copy of this request once the stale answer is sent (see
 * `BackgroundContinuation`): the copy comes back through `access` with `ctx.background`
 * set, goes to the upstream like a miss, and its response is stored by the response phase.
 * False when it cannot run in the background: the request then refreshes in the foreground.
 */
export function revalidate(c: CacheParts, ctx: RequestContext, s: RequestState, e: CachedResponse): boolean {
  const key = e.key
  const node = c.node
  if (node.refreshing.has(key)) return true
  if (ctx.afterReply !== null) return false
  node.refreshing.add(key)
  ctx.afterReply = {
    from: c,
    // a HEAD's entry is a GET's: refresh it with a GET, whose body can be stored
    ...(ctx.method === 'HEAD' && { method: 'GET' }),
    prepare: (copy) => {
      const r = new RequestState()
      r.status = 'Refresh'
      r.base = s.base
      r.key = key
      r.index = s.index
      r.bodyHash = s.bodyHash
      r.refreshOf = e
      copy.set(CACHE_STATE, r)
      copy.set(CACHE_STATUS, 'Refresh')
    },
    done: () => {
      node.refreshing.delete(key)
    },
  }
  return true
}

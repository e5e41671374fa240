import type { RequestContext } from '../../core/context.js'
import type { ResponseHead } from '../../core/plugin.js'
import type { CachedResponse } from './entry.js'
import { contentTypeMatcher, type Directives, parseDirectives, resourceTtl, seconds } from './http-rules.js'
import type { ProxyCacheConfig } from './schema.js'
import { neverCachedStatus } from './schema.js'
import type { RequestState } from './state.js'

/** The compiled decisions of one configuration: which requests, which responses, how long. */
export interface Rules {
  readonly methods: ReadonlySet<string>
  readonly statuses: ReadonlySet<number>
  readonly contentType: (ct: string | string[] | undefined) => boolean
  readonly cacheControl: boolean
  readonly cacheTtl: number
  readonly storageTtl: number | undefined
  readonly swr: number
  readonly sie: number
  readonly maxBody: number
}

export function compileRules(c: ProxyCacheConfig): Rules {
  const methods = new Set<string>(c.request_method)
  if (c.cache_post) methods.add('POST')
  return {
    methods,
    statuses: new Set(c.response_code),
    contentType: contentTypeMatcher(c.content_type),
    cacheControl: c.cache_control,
    cacheTtl: c.cache_ttl,
    storageTtl: c.storage_ttl,
    swr: c.stale_while_revalidate,
    sie: c.stale_if_error,
    maxBody: c.max_body_bytes,
  }
}

/**
 * Request headers that make the upstream answer for another resource or another action than
 * the request line says: IIS/Symfony/Zend path overrides (`X-Original-URL`, `X-Rewrite-URL`)
 * and method overrides (`X-HTTP-Method-Override: DELETE` on a GET, read by Express, Rails,
 * ASP.NET, Google APIs). Keying them would still store a 404 or a deletion under a key others
 * cannot reach, but serving a cached 200 to a request that asks for a DELETE would skip the
 * DELETE: such a request bypasses the cache, both ways.
 */
const BYPASS_HEADERS = [
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]

/** The request carries a header that redirects what the upstream does (see BYPASS_HEADERS). */
export function overridesRequestLine(headers: RequestContext['req']['headers']): boolean {
  for (let i = 0; i < BYPASS_HEADERS.length; i++) if (headers[BYPASS_HEADERS[i]!] !== undefined) return true
  return false
}

/** How a response may be stored: freshness and stale windows (s), and the Vary names. */
export interface Storable {
  ttl: number
  swr: number
  sie: number
  vary: string[]
}

/**
 * Whether a response may be stored, and for how long. Never, whatever the config: a plugin's
 * reply, 400 or 5xx, `Set-Cookie`, `Cache-Control: private` or `no-store`, `Vary: *`, or a
 * body over the size bound. With `cache_control`, also `no-cache` and a zero lifetime, and the
 * lifetime and stale windows come from the response (`s-maxage`, `max-age`, `Expires`,
 * `stale-while-revalidate`, `stale-if-error`).
 *
 * @example
 *   storable(rules, head, Date.now())   // → { ttl: 300, swr: 0, sie: 0, vary: [] } or null
 */
export function storable(r: Rules, head: ResponseHead, now: number): Storable | null {
  if (head.fromPlugin || neverCachedStatus(head.status) || !r.statuses.has(head.status)) return null
  const h = head.headers
  if (h['set-cookie'] !== undefined || !r.contentType(h['content-type'])) return null
  const len = h['content-length']
  if (typeof len === 'string' && Number(len) > r.maxBody) return null
  const cc = parseDirectives(h['cache-control'])
  if (cc.private !== undefined || cc['no-store'] !== undefined) return null
  let vary: string[] = []
  const v = h.vary
  if (v !== undefined) {
    for (const part of (Array.isArray(v) ? v.join(',') : v).split(',')) {
      const name = part.trim().toLowerCase()
      if (name === '*') return null
      if (name !== '' && !vary.includes(name)) vary.push(name)
    }
  }
  vary = vary.sort()
  if (!r.cacheControl) return { ttl: r.cacheTtl, swr: r.swr, sie: r.sie, vary }
  if (cc['no-cache'] !== undefined) return null
  const ttl = resourceTtl(cc, h, now)
  if (ttl <= 0) return null
  return {
    ttl,
    swr: Math.max(r.swr, seconds(cc, 'stale-while-revalidate') ?? 0),
    sie: Math.max(r.sie, seconds(cc, 'stale-if-error') ?? 0),
    vary,
  }
}

/** What to do with an entry found for a request. */
export type Freshness = 'fresh' | 'stale-while-revalidate' | 'expired' | 'client-refresh'

/**
 * Decides between serving an entry and going upstream. Without `cache_control` the entry is
 * fresh for `cache_ttl` (as configured now, as Kong does); with it, for the response's own
 * lifetime, and the client's `max-age`, `min-fresh` and `max-stale` apply.
 */
export function freshness(r: Rules, e: CachedResponse, cc: Directives, now: number): Freshness {
  const age = now - e.storedAt
  const fresh = (r.cacheControl ? e.ttl : r.cacheTtl) * 1000
  if (r.cacheControl) {
    const maxAge = seconds(cc, 'max-age')
    if (maxAge !== undefined && age > maxAge * 1000) return 'client-refresh'
    const minFresh = seconds(cc, 'min-fresh')
    if (minFresh !== undefined && fresh - age < minFresh * 1000) return 'client-refresh'
    const maxStale = cc['max-stale']
    if (age > fresh && maxStale !== undefined) {
      if (maxStale === true || (typeof maxStale === 'number' && age - fresh <= maxStale * 1000))
        return 'fresh'
    }
  }
  if (age <= fresh) return 'fresh'
  if (age <= fresh + e.swr * 1000) return 'stale-while-revalidate'
  return 'expired'
}

/** Whether a stale entry may stand in for a failed upstream now. */
export function usableOnError(r: Rules, e: CachedResponse, now: number): boolean {
  const fresh = (r.cacheControl ? e.ttl : r.cacheTtl) * 1000
  return now - e.storedAt <= fresh + Math.max(e.sie, 0) * 1000 && e.sie > 0
}

/** The upstream failed: a 5xx from it, or the gateway's 502/504 after trying it. */
export function upstreamFailed(ctx: RequestContext, head: ResponseHead): boolean {
  if (head.status < 500) return false
  return !head.fromPlugin || !Number.isNaN(ctx.upstreamStart)
}

/**
 * The RFC 9211 `Cache-Status` field of a response, with `Portico` as the cache's name: `hit`
 * with the entry's remaining freshness (`ttl`, negative once stale) and, for a stale answer, why
 * (`detail=stale-while-revalidate`); otherwise why the request went forward (`fwd=bypass`,
 * `miss`, `stale`, `request`) and, for stale-if-error, the failed upstream status.
 *
 * @example
 *   cacheStatusField(rules, state, Date.now()) // 'Portico; hit; ttl=-3; detail=stale-while-revalidate'
 */
export function cacheStatusField(r: Rules, s: RequestState, now: number): string {
  const e = s.entry
  const ttl =
    e === null
      ? ''
      : `; ttl=${Math.floor(((r.cacheControl ? e.ttl : r.cacheTtl) * 1000 - (now - e.storedAt)) / 1000)}`
  switch (s.status) {
    case 'Hit':
      return `Portico; hit${ttl}`
    case 'Stale':
      return s.staleBy === 'stale-if-error'
        ? `Portico; fwd=stale; fwd-status=${s.failedStatus || 502}${ttl}; detail=stale-if-error`
        : `Portico; hit${ttl}; detail=${s.staleBy}`
    case 'Bypass':
      return 'Portico; fwd=bypass'
    case 'Refresh':
      return s.clientRefresh ? 'Portico; fwd=request' : 'Portico; fwd=stale'
    default:
      return 'Portico; fwd=miss'
  }
}

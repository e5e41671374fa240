import { slot } from '../../core/slot.js'
import type { CachedResponse, VaryIndex } from './entry.js'
import type { Fill } from './node.js'
import type { Storable } from './rules.js'

/** Kong's X-Cache-Status values (also the {@link CACHE_STATUS} slot). */
export type CacheStatus = 'Hit' | 'Miss' | 'Refresh' | 'Bypass'

/** One request's cache state, kept in the {@link CACHE_STATE} slot from access to log. */
export class RequestState {
  status: CacheStatus = 'Miss'
  /** the entry's key: X-Cache-Key (the variant's once a Vary index applies) */
  key = ''
  /** the key before the response's own Vary applies */
  base = ''
  /** the base key's Vary index: found at lookup, or to be written with this response */
  index: VaryIndex | null = null
  writeIndex = false
  /** the entry served (hits) */
  entry: CachedResponse | null = null
  /** an expired entry that may stand in if the upstream fails (stale_if_error) */
  stale: CachedResponse | null = null
  serveStale = false
  /** this request leads a collapsed fill: it settles it */
  fill: Fill | null = null
  /** the Redis key this request locked or waited on, and its lock token ('' when none) */
  waitKey = ''
  lockToken = ''
  lockDone = false
  /** whether the response may be stored, and how (set by the response phase) */
  store = true
  storable: Storable | null = null
  /** sha256 of a cached POST's body */
  bodyHash = ''
  /** a background refresh: the stale entry it replaces */
  refreshOf: CachedResponse | null = null
  /** `Kong-Debug` sent: every diagnostic header, whatever `response_headers` says */
  debug = false
}

/** The state of every bypassed request: shared, never written. */
export const BYPASSED: Readonly<RequestState> = Object.freeze(
  Object.assign(new RequestState(), { status: 'Bypass' as const, store: false }),
)

/** The request's cache state (undefined when no proxy-cache instance ran for it). */
export const CACHE_STATE = slot<RequestState | undefined>('proxy-cache.state', undefined)

/**
 * The request's cache outcome for logs and metrics: Hit, Miss, Refresh, Bypass, or '' when no
 * instance ran (registered as `portico_cache_requests_total{status}` and the log's `cache`).
 */
export const CACHE_STATUS = slot<CacheStatus | ''>('proxy-cache.status', '')

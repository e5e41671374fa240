import type { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'
import type { AccessResult, Reply } from '../../core/plugin.js'
import { type CachedResponse, decode, type Stored } from './entry.js'
import type { Directives } from './http-rules.js'
import { variantKey } from './key.js'
import { freshness } from './rules.js'
import { CACHE_STATE, type RequestState } from './state.js'
import {
  type CacheParts,
  FILL_WAIT_MS,
  FRONT_TTL_MS,
  hit,
  LOCK_TTL_MS,
  markStatus,
  revalidate,
  settle,
  upstream,
} from './steps.js'

/** What a background refresh that is not needed (or not this node's to do) answers: nobody. */
const NOT_NEEDED: Reply = Object.freeze({ status: 204 })

/**
 * Redis, after an in-process miss: the entry if another node stored it, else the fill lock
 * (this node goes upstream) or a bounded wait for the node that holds it. A Redis failure
 * or missed deadline bypasses the cache (DESIGN §2.7).
 */
export async function sharedLookup(
  c: CacheParts,
  ctx: RequestContext,
  s: RequestState,
  cc: Directives,
): Promise<AccessResult> {
  const rc = c.inst.redis!
  try {
    const found = await fetchShared(c, ctx, s)
    if (found !== null) {
      const f = freshness(c.r, found, cc, Date.now())
      if (f === 'fresh' || (f === 'stale-while-revalidate' && revalidate(c, ctx, s, found))) {
        settle(s, found, null)
        return hit(ctx, s, found)
      }
      if (found.sie > 0) s.stale = found
      s.status = 'Refresh'
    }
    if (cc['only-if-cached'] !== undefined) upstream(ctx, s, cc)
    s.waitKey = s.key
    const token = c.node.lockToken()
    if (await rc.lock(s.key, token, LOCK_TTL_MS)) {
      s.lockToken = token
    } else if ((await rc.waitForFill(s.key, FILL_WAIT_MS)) === 'filled') {
      const again = await fetchShared(c, ctx, s)
      if (again !== null && freshness(c.r, again, cc, Date.now()) === 'fresh') {
        settle(s, again, null)
        return hit(ctx, s, again)
      }
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err
    c.logger.debug({ err }, 'proxy-cache: redis unavailable, bypassing the cache')
    settle(s, null, null)
    s.store = false
    markStatus(ctx, s, 'Bypass')
    return undefined
  }
  upstream(ctx, s, cc)
  return undefined
}

/** Reads `s.key` from Redis (following a Vary index) into the in-process tier. */
async function fetchShared(
  c: CacheParts,
  ctx: RequestContext,
  s: RequestState,
): Promise<CachedResponse | null> {
  const rc = c.inst.redis!
  const first = await readShared(c, rc.get(s.base), s.base)
  if (first === null) return null
  if (first.kind === 'response') {
    s.key = s.base
    return first
  }
  s.index = first
  s.key = variantKey(ctx, s.base, first.epoch, first.names)
  const v = await readShared(c, rc.get(s.key), s.key)
  return v?.kind === 'response' ? v : null
}

/** A Redis blob decoded, kept in the in-process tier for a moment; an unreadable one is deleted. */
async function readShared(c: CacheParts, blob: Promise<Buffer | null>, key: string): Promise<Stored | null> {
  const b = await blob
  if (b === null) return null
  const e = decode(b)
  if (e === 'stale-format' || e === null) {
    // another layout version (Kong purges those too) or garbage: drop it
    c.inst.redis!.delete(key).catch(() => {})
    return null
  }
  const left = e.storedAt + e.storageMs - Date.now()
  if (left > 0) c.inst.memory.set(key, e, e.bytes, Math.min(FRONT_TTL_MS, left))
  return e
}

/**
 * The access phase of a background refresh. Memory: straight to the upstream. Redis: unless
 * another node refreshed the entry already (then its copy goes to the in-process tier), the
 * refresh takes the key's fill lock, so one node refreshes; without it, nothing is sent.
 */
export function refreshAccess(c: CacheParts, ctx: RequestContext): AccessResult | Promise<AccessResult> {
  const s = ctx.get(CACHE_STATE)
  if (s === undefined || s.refreshOf === null) return NOT_NEEDED
  const rc = c.inst.redis
  if (rc === null) return undefined
  const e = s.refreshOf
  const key = e.key
  const skip = (): Reply => {
    s.store = false
    return NOT_NEEDED
  }
  return rc
    .get(key)
    .then(async (blob) => {
      const now = blob === null ? null : decode(blob)
      if (now !== null && now !== 'stale-format' && now.kind === 'response' && now.storedAt > e.storedAt) {
        const left = now.storedAt + now.storageMs - Date.now()
        c.inst.memory.set(key, now, now.bytes, Math.min(FRONT_TTL_MS, left))
        return skip()
      }
      const token = c.node.lockToken()
      if (!(await rc.lock(key, token, LOCK_TTL_MS))) return skip()
      s.lockToken = token
      s.waitKey = key
      return undefined
    })
    .catch(skip)
}

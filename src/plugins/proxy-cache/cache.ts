import type { RequestContext } from '../../core/context.js'
import type { Logger } from '../../core/logger.js'
import type { AccessResult, PluginInstance, ResponseHead } from '../../core/plugin.js'
import { hasRequestBody, readBodyWithin } from '../kit/body.js'
import { type CachedResponse, decode, encode } from './entry.js'
import { type Directives, parseDirectives } from './http-rules.js'
import { type KeyBuilder, sha256, variantKey } from './key.js'
import type { CacheInstance, CacheNode, FillResult } from './node.js'
import { Fill } from './node.js'
import {
  cacheStatusField,
  freshness,
  overridesRequestLine,
  type Rules,
  storable,
  upstreamFailed,
  usableOnError,
} from './rules.js'
import { refreshAccess, sharedLookup } from './shared.js'
import { BYPASSED, CACHE_STATE, CACHE_STATUS, RequestState } from './state.js'
import { dropped, hit, markStatus, release, revalidate, settle, upstream } from './steps.js'
import { prepareStore } from './store.js'
import type { NodeFills } from './workers.js'

const NO_DIRECTIVES: Directives = Object.freeze({}) as Directives

/** Which diagnostic headers to send (Kong's `response_headers`). */
export interface ShownHeaders {
  age: boolean
  status: boolean
  key: boolean
}

/**
 * One configured proxy-cache instance: access looks the request up (in-process tier, then
 * Redis), collapses concurrent misses, serves stale entries; the response phase decides
 * whether to store and taps the body; the log phase settles whatever is left and counts.
 * A memory hit never leaves the request's tick.
 */
export class ProxyCache implements PluginInstance {
  constructor(
    readonly r: Rules,
    readonly keyOf: KeyBuilder,
    readonly inst: CacheInstance,
    readonly node: CacheNode,
    readonly show: ShownHeaders,
    readonly byConsumer: boolean,
    readonly logger: Logger,
    readonly detach: () => void,
  ) {}

  access(ctx: RequestContext): AccessResult | Promise<AccessResult> {
    if (ctx.background) return refreshAccess(this, ctx)
    const h = ctx.req.headers
    let forced = false
    const m = ctx.method
    if (!this.r.methods.has(m) || overridesRequestLine(h)) return this.#bypass(ctx)
    const bodyMethod = m === 'POST' || m === 'PUT' || m === 'PATCH'
    const hasBody = hasRequestBody(ctx)
    // a body the key cannot see (a GET with a body) could make the upstream answer anything
    if (hasBody && !bodyMethod) return this.#bypass(ctx)
    if (h.authorization !== undefined || ctx.consumer !== null) {
      const keyed = this.byConsumer && ctx.consumer !== null && !ctx.anonymous
      if (!keyed && !(ctx.anonymous && h.authorization === undefined)) return this.#bypass(ctx)
    }
    let cc = NO_DIRECTIVES
    if (this.r.cacheControl) {
      cc = parseDirectives(h['cache-control'])
      if (cc['no-store'] !== undefined) return this.#bypass(ctx)
      if (cc['no-cache'] !== undefined) forced = true
    }
    const s = new RequestState()
    s.debug = h['kong-debug'] !== undefined
    ctx.set(CACHE_STATE, s)
    if (!bodyMethod || !hasBody) return this.#lookup(ctx, s, cc, forced)
    const cl = h['content-length']
    if (cl !== undefined && Number(cl) > this.r.maxBody) return this.#bypass(ctx)
    // a chunked body is read up to the same bound: within it, it keys as the same bytes with a
    // Content-Length would; past it, the bytes read go back in front of the rest, streamed uncached
    return readBodyWithin(ctx, this.r.maxBody).then((body) => {
      if (body === null) return this.#bypass(ctx)
      if (body.length > 0) s.bodyHash = sha256(body)
      return this.#lookup(ctx, s, cc, forced)
    })
  }

  #bypass(ctx: RequestContext): undefined {
    ctx.set(CACHE_STATE, BYPASSED as RequestState)
    ctx.set(CACHE_STATUS, 'Bypass')
    return undefined
  }

  #lookup(
    ctx: RequestContext,
    s: RequestState,
    cc: Directives,
    forced: boolean,
  ): AccessResult | Promise<AccessResult> {
    s.base = s.key = this.keyOf(ctx, s.bodyHash)
    if (forced) {
      // the client (no-cache) or this node's background refresh wants the upstream's answer
      markStatus(ctx, s, 'Refresh')
      s.clientRefresh = true
      if (ctx.method === 'HEAD') s.store = false
      return undefined
    }
    const found = this.#local(ctx, s)
    if (found !== null) {
      const f = freshness(this.r, found, cc, Date.now())
      if (f === 'fresh' || (f === 'stale-while-revalidate' && revalidate(this, ctx, s, found))) {
        return hit(ctx, s, found, f === 'fresh' ? '' : f)
      }
      if (found.sie > 0) s.stale = found
      s.status = 'Refresh'
      if (f === 'client-refresh') {
        s.clientRefresh = true
        upstream(ctx, s, cc)
        return undefined
      }
    }
    const pending = this.node.pending.get(s.key)
    if (pending !== undefined) return pending.promise.then((r) => this.#joined(ctx, s, cc, r))
    if (ctx.method !== 'HEAD') s.fill = new Fill(s.key, this.node.pending)
    if (this.inst.redis === null) {
      if (this.node.fills !== null && s.fill !== null)
        return this.#nodeFill(ctx, s, cc, this.node.fills, s.fill)
      upstream(ctx, s, cc)
      return undefined
    }
    return sharedLookup(this, ctx, s, cc)
  }

  /**
   * A node with workers: the first worker to miss a key fills it for the node; the others
   * answer from the entry it stored (sent by the primary) and keep it in their own tier.
   */
  async #nodeFill(
    ctx: RequestContext,
    s: RequestState,
    cc: Directives,
    fills: NodeFills,
    fill: Fill,
  ): Promise<AccessResult> {
    const key = s.key
    const claim = await fills.claim(key)
    if (claim.leader) {
      fill.onSettle = (entry) => fills.done(key, entry === null ? null : encode(entry), this.inst.id)
      upstream(ctx, s, cc)
      return undefined
    }
    const got = claim.entry === null ? null : decode(Buffer.from(claim.entry, 'base64'))
    const entry = got !== null && got !== 'stale-format' && got.kind === 'response' ? got : null
    if (entry !== null) this.inst.memory.set(entry.key, entry, entry.bytes, entry.storageMs)
    // the requests of this worker that waited on this one get the same
    s.fill = null
    fill.settle(entry)
    return this.#joined(ctx, s, cc, { entry, stale: null })
  }

  /** The in-process tier, following a Vary index to the request's variant. */
  #local(ctx: RequestContext, s: RequestState): CachedResponse | null {
    const mem = this.inst.memory
    const e = mem.get(s.key)
    if (e === undefined) return null
    if (e.kind === 'response') return e
    s.index = e
    s.key = variantKey(ctx, s.base, e.epoch, e.names)
    const v = mem.get(s.key)
    return v?.kind === 'response' ? v : null
  }

  /** A request that waited on another's fill: serve what it stored, or go upstream alone. */
  #joined(ctx: RequestContext, s: RequestState, cc: Directives, r: FillResult): AccessResult {
    if (r.entry !== null && this.#applies(ctx, r.entry)) {
      // the leader may have settled the fill with a stale entry it serves while revalidating
      const fresh = freshness(this.r, r.entry, NO_DIRECTIVES, Date.now()) === 'fresh'
      return hit(ctx, s, r.entry, fresh ? '' : 'stale-while-revalidate')
    }
    if (r.stale !== null) return hit(ctx, s, r.stale, 'stale-if-error')
    upstream(ctx, s, cc)
    return undefined
  }

  /** Whether an entry a fill produced is this request's variant. */
  #applies(ctx: RequestContext, e: CachedResponse): boolean {
    return e.vary === null || variantKey(ctx, e.base ?? '', e.epoch ?? '', e.vary) === e.key
  }

  response(ctx: RequestContext, head: ResponseHead): void {
    const s = ctx.get(CACHE_STATE)
    if (s === undefined) return
    if (s.status === 'Hit' || s.status === 'Stale') return this.#headers(s, head, true)
    if (s.status === 'Bypass') return this.#headers(s, head, false)
    const now = Date.now()
    if (s.stale !== null && upstreamFailed(ctx, head) && usableOnError(this.r, s.stale, now)) {
      // stale_if_error: the stale entry replaces the failure (its body through the body hook)
      const e = s.stale
      s.serveStale = true
      s.entry = e
      s.key = e.key
      s.staleBy = 'stale-if-error'
      s.failedStatus = head.status
      markStatus(ctx, s, 'Stale')
      head.status = e.status
      head.headers = { ...e.headers, 'content-length': String(e.body.length) }
      head.buffer = true
      settle(s, null, e)
      release(this, s, false)
      return this.#headers(s, head, true)
    }
    const st = s.store ? storable(this.r, head, now) : null
    if (st === null) {
      if (s.store) markStatus(ctx, s, 'Bypass')
      settle(s, null, null)
      release(this, s, false)
      return this.#headers(s, head, false)
    }
    prepareStore(this, ctx, s, head, st, now)
    this.#headers(s, head, false)
  }

  #headers(s: Readonly<RequestState>, head: ResponseHead, hit: boolean): void {
    const h = head.headers
    if (this.show.status || s.debug) {
      h['x-cache-status'] = s.status
      h['x-cache'] = hit ? 'HIT' : 'MISS'
      h['cache-status'] = cacheStatusField(this.r, s, Date.now())
    }
    if ((this.show.key || s.debug) && s.key !== '') h['x-cache-key'] = s.key
    if (hit && (this.show.age || s.debug) && s.entry !== null) {
      h.age = String(Math.max(0, Math.floor((Date.now() - s.entry.storedAt) / 1000)))
    }
  }

  body(ctx: RequestContext, _head: ResponseHead, _body: Buffer): Buffer | undefined {
    const s = ctx.get(CACHE_STATE)
    return s?.serveStale ? s.entry!.body : undefined
  }

  log(ctx: RequestContext): void {
    const s = ctx.get(CACHE_STATE)
    if (s === undefined) return
    if (s !== BYPASSED) dropped(this, s) // settles a fill or lock left open (client gone early)
    if (ctx.background) return // a refresh nobody asked for: not a client's hit or miss
    const st = this.inst.stats
    if (s.status === 'Hit' || s.status === 'Stale') st.hits++
    else if (s.status === 'Bypass') st.bypasses++
    else st.misses++
  }

  close(): void {
    this.detach()
  }
}

import type { IncomingMessage } from 'node:http'
import type { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import type { AccessResult, BodyTap, PluginInstance, Reply, ResponseHead } from '../../core/plugin.js'
import { type CachedResponse, decode, encode, type Stored, storableHeaders, type VaryIndex } from './entry.js'
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
import { BYPASSED, type CacheStatus, RequestState } from './state.js'

const NAME = 'proxy-cache'
/** How long the redis strategy's in-process tier keeps an entry: a hot key costs no round trip. */
export const FRONT_TTL_MS = 1000
/** Lifetime of the fill lock in Redis: a node that dies holding it blocks the others this long. */
export const LOCK_TTL_MS = 5000
/** How long a node waits for another node's fill before going upstream itself. */
export const FILL_WAIT_MS = 5000
const NO_DIRECTIVES: Directives = Object.freeze({}) as Directives
/** What a background refresh that is not needed (or not this node's to do) answers: nobody. */
const NOT_NEEDED: Reply = Object.freeze({ status: 204 })

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
    if (ctx.background) return this.#refreshAccess(ctx)
    const h = ctx.req.headers
    let forced = false
    const m = ctx.method
    if (!this.r.methods.has(m) || overridesRequestLine(h)) return this.#bypass(ctx)
    const bodyMethod = m === 'POST' || m === 'PUT' || m === 'PATCH'
    const cl = h['content-length']
    const hasBody = h['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0')
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
    ;(ctx.state ??= {})[NAME] = s
    if (!bodyMethod || !hasBody) return this.#lookup(ctx, s, cc, forced)
    // a chunked body is read within the same bound as one with Content-Length, and keyed alike
    if (cl !== undefined && Number(cl) > this.r.maxBody) return this.#bypass(ctx)
    return readBody(ctx.req, this.r.maxBody).then((body) => {
      if (body === null) return this.#bypass(ctx)
      ctx.upstreamBody = body
      s.bodyHash = sha256(body)
      return this.#lookup(ctx, s, cc, forced)
    })
  }

  #bypass(ctx: RequestContext): undefined {
    ;(ctx.state ??= {})[NAME] = BYPASSED
    ctx.cacheStatus = 'Bypass'
    return undefined
  }

  #status(ctx: RequestContext, s: RequestState, status: CacheStatus): void {
    s.status = status
    ctx.cacheStatus = status
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
      this.#status(ctx, s, 'Refresh')
      s.clientRefresh = true
      if (ctx.method === 'HEAD') s.store = false
      return undefined
    }
    const found = this.#local(ctx, s)
    if (found !== null) {
      const f = freshness(this.r, found, cc, Date.now())
      if (f === 'fresh' || (f === 'stale-while-revalidate' && this.#revalidate(ctx, s, found))) {
        return this.#hit(ctx, s, found, f === 'fresh' ? '' : f)
      }
      if (found.sie > 0) s.stale = found
      s.status = 'Refresh'
      if (f === 'client-refresh') {
        s.clientRefresh = true
        this.#upstream(ctx, s, cc)
        return undefined
      }
    }
    const pending = this.node.pending.get(s.key)
    if (pending !== undefined) return pending.promise.then((r) => this.#joined(ctx, s, cc, r))
    if (ctx.method !== 'HEAD') s.fill = new Fill(s.key, this.node.pending)
    if (this.inst.redis === null) {
      this.#upstream(ctx, s, cc)
      return undefined
    }
    return this.#shared(ctx, s, cc)
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

  #hit(
    ctx: RequestContext,
    s: RequestState,
    e: CachedResponse,
    staleBy: RequestState['staleBy'] = '',
  ): Reply {
    s.entry = e
    s.key = e.key
    s.staleBy = staleBy
    this.#status(ctx, s, staleBy === '' ? 'Hit' : 'Stale')
    return { status: e.status, headers: e.headers as Record<string, string | string[]>, body: e.body }
  }

  /** Going upstream: Miss or Refresh, or 504 when the client accepts only a cached answer. */
  #upstream(ctx: RequestContext, s: RequestState, cc: Directives): void {
    if (cc['only-if-cached'] !== undefined) {
      this.#settle(s, null, null)
      s.store = false
      this.#status(ctx, s, 'Miss')
      throw new GatewayError('CACHE_ONLY_IF_CACHED')
    }
    this.#status(ctx, s, s.status === 'Refresh' ? 'Refresh' : 'Miss')
    // a HEAD answer has no body to store: GETs fill the entries HEADs are served from
    if (ctx.method === 'HEAD') s.store = false
  }

  /** A request that waited on another's fill: serve what it stored, or go upstream alone. */
  #joined(ctx: RequestContext, s: RequestState, cc: Directives, r: FillResult): AccessResult {
    if (r.entry !== null && this.#applies(ctx, r.entry)) {
      // the leader may have settled the fill with a stale entry it serves while revalidating
      const fresh = freshness(this.r, r.entry, NO_DIRECTIVES, Date.now()) === 'fresh'
      return this.#hit(ctx, s, r.entry, fresh ? '' : 'stale-while-revalidate')
    }
    if (r.stale !== null) return this.#hit(ctx, s, r.stale, 'stale-if-error')
    this.#upstream(ctx, s, cc)
    return undefined
  }

  /** Whether an entry a fill produced is this request's variant. */
  #applies(ctx: RequestContext, e: CachedResponse): boolean {
    return e.vary === null || variantKey(ctx, e.base ?? '', e.epoch ?? '', e.vary) === e.key
  }

  /**
   * Redis, after an in-process miss: the entry if another node stored it, else the fill lock
   * (this node goes upstream) or a bounded wait for the node that holds it. A Redis failure
   * or missed deadline bypasses the cache (DESIGN §2.7).
   */
  async #shared(ctx: RequestContext, s: RequestState, cc: Directives): Promise<AccessResult> {
    const rc = this.inst.redis!
    try {
      const found = await this.#fetch(ctx, s)
      if (found !== null) {
        const f = freshness(this.r, found, cc, Date.now())
        if (f === 'fresh' || (f === 'stale-while-revalidate' && this.#revalidate(ctx, s, found))) {
          this.#settle(s, found, null)
          return this.#hit(ctx, s, found, f === 'fresh' ? '' : f)
        }
        if (found.sie > 0) s.stale = found
        s.status = 'Refresh'
      }
      if (cc['only-if-cached'] !== undefined) this.#upstream(ctx, s, cc)
      s.waitKey = s.key
      const token = this.node.lockToken()
      if (await rc.lock(s.key, token, LOCK_TTL_MS)) {
        s.lockToken = token
      } else if ((await rc.waitForFill(s.key, FILL_WAIT_MS)) === 'filled') {
        const again = await this.#fetch(ctx, s)
        if (again !== null && freshness(this.r, again, cc, Date.now()) === 'fresh') {
          this.#settle(s, again, null)
          return this.#hit(ctx, s, again)
        }
      }
    } catch (err) {
      if (err instanceof GatewayError) throw err
      this.logger.debug({ err }, 'proxy-cache: redis unavailable, bypassing the cache')
      this.#settle(s, null, null)
      s.store = false
      this.#status(ctx, s, 'Bypass')
      return undefined
    }
    this.#upstream(ctx, s, cc)
    return undefined
  }

  /** Reads `s.key` from Redis (following a Vary index) into the in-process tier. */
  async #fetch(ctx: RequestContext, s: RequestState): Promise<CachedResponse | null> {
    const rc = this.inst.redis!
    const first = await this.#read(rc.get(s.base), s.base)
    if (first === null) return null
    if (first.kind === 'response') {
      s.key = s.base
      return first
    }
    s.index = first
    s.key = variantKey(ctx, s.base, first.epoch, first.names)
    const v = await this.#read(rc.get(s.key), s.key)
    return v?.kind === 'response' ? v : null
  }

  async #read(blob: Promise<Buffer | null>, key: string): Promise<Stored | null> {
    const b = await blob
    if (b === null) return null
    const e = decode(b)
    if (e === 'stale-format' || e === null) {
      // another layout version (Kong purges those too) or garbage: drop it
      this.inst.redis!.delete(key).catch(() => {})
      return null
    }
    const left = e.storedAt + e.storageMs - Date.now()
    if (left > 0) this.inst.memory.set(key, e, e.bytes, Math.min(FRONT_TTL_MS, left))
    return e
  }

  /**
   * Arranges one background refresh of a stale entry (stale_while_revalidate): at most one per
   * key on this node, and with Redis one across nodes (the fill lock, taken by the refresh).
   * The data plane continues a copy of this request once the stale answer is sent (see
   * `BackgroundContinuation`): the copy comes back through {@link access} with `ctx.background`
   * set, goes to the upstream like a miss, and its response is stored by the response phase.
   * False when it cannot run in the background: the request then refreshes in the foreground.
   */
  #revalidate(ctx: RequestContext, s: RequestState, e: CachedResponse): boolean {
    const key = e.key
    const node = this.node
    if (node.refreshing.has(key)) return true
    if (ctx.afterReply !== null) return false
    node.refreshing.add(key)
    ctx.afterReply = {
      from: this,
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
        ;(copy.state ??= {})[NAME] = r
        copy.cacheStatus = 'Refresh'
      },
      done: () => {
        node.refreshing.delete(key)
      },
    }
    return true
  }

  /**
   * The access phase of a background refresh. Memory: straight to the upstream. Redis: unless
   * another node refreshed the entry already (then its copy goes to the in-process tier), the
   * refresh takes the key's fill lock, so one node refreshes; without it, nothing is sent.
   */
  #refreshAccess(ctx: RequestContext): AccessResult | Promise<AccessResult> {
    const s = ctx.state?.[NAME] as RequestState | undefined
    if (s === undefined || s.refreshOf === null) return NOT_NEEDED
    const rc = this.inst.redis
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
          this.inst.memory.set(key, now, now.bytes, Math.min(FRONT_TTL_MS, left))
          return skip()
        }
        const token = this.node.lockToken()
        if (!(await rc.lock(key, token, LOCK_TTL_MS))) return skip()
        s.lockToken = token
        s.waitKey = key
        return undefined
      })
      .catch(skip)
  }

  #settle(s: RequestState, entry: CachedResponse | null, stale: CachedResponse | null): void {
    const fill = s.fill
    if (fill === null) return
    s.fill = null
    fill.settle(entry, stale)
  }

  #release(s: RequestState, filled: boolean): void {
    if (s.lockDone || (s.lockToken === '' && !filled) || this.inst.redis === null) return
    s.lockDone = true
    // without a lock (a filler that stopped waiting) the release only wakes the waiters
    this.inst.redis.release(s.waitKey || s.key, s.lockToken || '-', filled).catch(() => {})
  }

  response(ctx: RequestContext, head: ResponseHead): void {
    const s = ctx.state?.[NAME] as RequestState | undefined
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
      this.#status(ctx, s, 'Stale')
      head.status = e.status
      head.headers = { ...e.headers, 'content-length': String(e.body.length) }
      head.buffer = true
      this.#settle(s, null, e)
      this.#release(s, false)
      return this.#headers(s, head, true)
    }
    const st = s.store ? storable(this.r, head, now) : null
    if (st === null) {
      if (s.store) this.#status(ctx, s, 'Bypass')
      this.#settle(s, null, null)
      this.#release(s, false)
      return this.#headers(s, head, false)
    }
    if (st.vary.length > 0) {
      // the Vary index decides the variant key; a response varying on other headers starts a new index
      const same = s.index !== null && s.index.names.join('\n') === st.vary.join('\n')
      if (!same) s.index = newIndex(s.base, st.vary, now)
      s.writeIndex = true
      s.key = variantKey(ctx, s.base, s.index!.epoch, s.index!.names)
    } else {
      s.index = null
      s.key = s.base
    }
    s.storable = st
    ;(head.taps ??= []).push(new StoreTap(this, ctx, s, head))
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
    const s = ctx.state?.[NAME] as RequestState | undefined
    return s?.serveStale ? s.entry!.body : undefined
  }

  /** The whole body went out: store it (the head is final now: re-check what may have changed). */
  stored(ctx: RequestContext, s: RequestState, head: ResponseHead, body: Buffer): void {
    const now = Date.now()
    const st = storable(this.r, head, now)
    if (st === null || s.storable === null) return this.dropped(s)
    const { headers, bytes } = storableHeaders(head.headers, ctx.responseHeaders)
    const storageMs = Math.max(this.r.storageTtl ?? st.ttl, st.ttl + Math.max(st.swr, st.sie)) * 1000
    const idx = s.writeIndex ? s.index : null
    const e: CachedResponse = {
      kind: 'response',
      key: s.key,
      status: head.status,
      headers,
      body,
      storedAt: now,
      ttl: st.ttl,
      swr: st.swr,
      sie: st.sie,
      storageMs,
      bytes: body.length + bytes + 256,
      base: idx === null ? null : s.base,
      vary: idx === null ? null : idx.names,
      epoch: idx === null ? null : idx.epoch,
    }
    const index: VaryIndex | null = idx === null ? null : { ...idx, storedAt: now, storageMs }
    const mem = this.inst.memory
    const rc = this.inst.redis
    const keep = rc === null ? storageMs : Math.min(FRONT_TTL_MS, storageMs)
    if (index !== null) mem.set(s.base, index, index.bytes, keep)
    mem.set(e.key, e, e.bytes, keep)
    this.#settle(s, e, null)
    if (rc === null) return
    s.lockDone = true
    const writes = [rc.set(e.key, encode(e), storageMs)]
    if (index !== null) writes.push(rc.set(s.base, encode(index), storageMs))
    const waitKey = s.waitKey || s.key
    Promise.all(writes)
      .then(
        () => rc.release(waitKey, s.lockToken || '-', true),
        (err: unknown) => {
          this.logger.debug({ err }, 'proxy-cache: storing in redis failed')
          return rc.release(waitKey, s.lockToken || '-', false)
        },
      )
      .catch(() => {})
  }

  /** The response will not be stored after all (too big, cut short, changed late). */
  dropped(s: RequestState): void {
    this.#settle(s, null, null)
    this.#release(s, false)
  }

  log(ctx: RequestContext): void {
    const s = ctx.state?.[NAME] as RequestState | undefined
    if (s === undefined) return
    if (s !== BYPASSED) this.dropped(s) // settles a fill or lock left open (client gone early)
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

function newIndex(base: string, names: string[], now: number): VaryIndex {
  const epoch = sha256(`${base}\n${now}\n${Math.random()}`).slice(0, 16)
  return {
    kind: 'vary',
    key: base,
    names: Object.freeze(names),
    epoch,
    storedAt: now,
    storageMs: 0,
    bytes: 256,
  }
}

/** Collects the body as it streams to the client; stores it at the end if it stayed within bounds. */
class StoreTap implements BodyTap {
  #chunks: Buffer[] = []
  #size = 0
  #over = false

  constructor(
    readonly owner: ProxyCache,
    readonly ctx: RequestContext,
    readonly s: RequestState,
    readonly head: ResponseHead,
  ) {}

  chunk(data: Buffer): void {
    if (this.#over) return
    this.#size += data.length
    if (this.#size > this.owner.r.maxBody) {
      this.#over = true
      this.#chunks = []
      this.owner.dropped(this.s) // waiters need not wait for a body that will not be stored
      return
    }
    this.#chunks.push(data)
  }

  end(): void {
    if (this.#over) return
    this.#over = true
    this.owner.stored(this.ctx, this.s, this.head, Buffer.concat(this.#chunks, this.#size))
    this.#chunks = []
  }

  abort(): void {
    this.#over = true
    this.#chunks = []
    this.owner.dropped(this.s)
  }
}

/**
 * Reads a request body of at most `limit` bytes (Content-Length or chunked). Past the limit it
 * stops, puts what it read back at the head of the stream (`unshift`) and resolves null: the
 * request then goes upstream uncached, streamed whole as if nothing had been read.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onClose)
      req.off('error', onError)
    }
    const onData = (d: Buffer): void => {
      chunks.push(d)
      size += d.length
      if (size <= limit) return
      cleanup()
      req.pause()
      req.unshift(Buffer.concat(chunks, size))
      resolve(null)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onClose = (): void => {
      if (req.complete) return
      cleanup()
      reject(new GatewayError('BAD_REQUEST', 'the client closed the request before its body'))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(err)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('close', onClose)
    req.on('error', onError)
  })
}

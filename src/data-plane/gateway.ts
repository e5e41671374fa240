import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { type BackgroundContinuation, RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { AccessResult, Reply } from '../core/plugin.js'
import { DiscardedResponse } from './background.js'
import { type Chain, resolve, runAccess, runLog } from './chain.js'
import { connectionTokens, type ForwardInfo } from './headers.js'
import { ProxyCall } from './proxy.js'
import { sendError, sendFailure, sendReply } from './respond.js'
import { normalizePath } from './router/normalize.js'
import type { CompiledRoute, Runtime } from './runtime.js'
import { plainAddress, type TrustedProxies } from './trust.js'

/** Request limits (DESIGN §5); header size itself is Node's `maxHeaderSize` on the server. */
export interface Limits {
  maxUrlLength: number
  maxHeaders: number
  /** bytes, 0 = unlimited */
  maxBodySize: number
}

/** A built-in endpoint on the proxy listener (`/healthz`): answered before routing and plugins. */
export type Builtin = (req: IncomingMessage, res: ServerResponse) => void

/** What a request looks like after the checks every request passes (see {@link Gateway.prepare}). */
interface Prepared {
  ctx: RequestContext
  hostHeader: string
  contentLength: number
  chunked: boolean
  dropped: Set<string> | null
}

/** Called after every response (metrics, access log): must not throw. */
export type RequestObserver = (ctx: RequestContext) => void

/**
 * The data plane's request handler. It holds one reference to the current {@link Runtime} and
 * reads it once per request, so a swap is atomic: a request runs entirely on the runtime it
 * started with.
 */
export class Gateway {
  #runtime: Runtime
  #draining = false
  /** responses in progress: a drain must turn their keep-alive off */
  readonly #inflight = new Set<ServerResponse>()
  readonly #upgraded = new Set<Duplex>()
  readonly builtins = new Map<string, Builtin>()
  readonly observers: RequestObserver[] = []

  constructor(
    runtime: Runtime,
    readonly limits: Limits,
    readonly trust: TrustedProxies,
    readonly log: Logger,
    readonly proto: 'http' | 'https' = 'http',
  ) {
    this.#runtime = runtime
  }

  get runtime(): Runtime {
    return this.#runtime
  }

  /** responses in progress now (the node's busy connections, for its metrics) */
  get inProgress(): number {
    return this.#inflight.size
  }

  get draining(): boolean {
    return this.#draining
  }

  /** Stop keeping connections alive: responses not yet started will carry `Connection: close`. */
  startDraining(): void {
    this.#draining = true
    for (const res of this.#inflight) if (!res.headersSent) res.shouldKeepAlive = false
    // upgraded connections (WebSockets) have no response to finish: end them now
    for (const s of this.#upgraded) s.end()
  }

  /** An upgraded connection, ended when the gateway drains. */
  trackUpgraded(socket: Duplex): void {
    this.#upgraded.add(socket)
    socket.once('close', () => this.#upgraded.delete(socket))
  }

  /** Swap to a new runtime; the old one is closed once its last request has finished. */
  swap(next: Runtime, onOldDrained?: (old: Runtime) => void): void {
    const old = this.#runtime
    this.#runtime = next
    old.retire(() => {
      old.close()
      onOldDrained?.(old)
    })
  }

  /** node:http 'request' listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const rt = this.#runtime
    rt.inflight++
    const ctx = new RequestContext(req, res, randomUUID(), performance.now())
    if (this.#draining) res.shouldKeepAlive = false
    this.#inflight.add(res)
    // the close listener sees `chain` once a route matched: the log phase runs the route's chain
    let chain: Chain = rt.unmatched
    // one 'close' listener per request (not `once`: close fires once, and once() wraps)
    res.on('close', () => this.#finished(rt, ctx, chain))
    let p: Prepared
    try {
      p = this.prepare(ctx)
    } catch (err) {
      res.shouldKeepAlive = false
      return sendFailure(ctx, rt.unmatched, err)
    }
    const builtin = this.builtins.get(ctx.path)
    if (builtin !== undefined) return builtin(req, res)
    const match = rt.router.find(ctx.method, ctx.host, ctx.path, req)
    if (match === null) return sendError(ctx, rt.unmatched, new GatewayError('NO_ROUTE'))
    const route = match.value
    chain = route.chain
    ctx.route = route.info
    ctx.captures = match.captures
    const service = route.service
    const stripped = match.strippedPath
    // a route without a service still runs its access phase (request-termination answers
    // there, as in Kong); only a request that gets past it is refused with NO_SERVICE
    if (service !== null) {
      ctx.service = service.info
      ctx.upstreamPath =
        service.basePath === '' ? stripped : stripped === '/' ? service.basePath : service.basePath + stripped
    } else ctx.upstreamPath = stripped
    ctx.upstreamQuery = ctx.query
    if (this.limits.maxBodySize > 0 && p.contentLength > this.limits.maxBodySize) {
      res.shouldKeepAlive = false
      return sendError(ctx, route.chain, new GatewayError('BODY_TOO_LARGE'))
    }
    // plugins may lower it (request-size-limiting) before the body is read or streamed
    ctx.maxBody = this.limits.maxBodySize
    if (chain.access.length === 0) return this.#proxy(ctx, route, p)
    this.#access(rt, ctx, route, p, 0)
  }

  /** The access phase from step `from` on, then the upstream or the reply. */
  #access(rt: Runtime, ctx: RequestContext, route: CompiledRoute, p: Prepared, from: number): void {
    const chain = route.chain
    let r: AccessResult | Promise<AccessResult>
    try {
      r = runAccess(chain, ctx, from)
    } catch (err) {
      return this.#pluginFailed(ctx, chain, err)
    }
    if (r === undefined) return this.#proxy(ctx, route, p)
    if (typeof (r as Promise<AccessResult>).then !== 'function')
      return this.#replied(rt, ctx, route, p, r as Reply)
    ;(r as Promise<AccessResult>).then(
      (v) => (v === undefined ? this.#proxy(ctx, route, p) : this.#replied(rt, ctx, route, p, v)),
      (err: unknown) => this.#pluginFailed(ctx, chain, err),
    )
  }

  /** A plugin answered: send its reply, then continue the request in the background if it asked. */
  #replied(rt: Runtime, ctx: RequestContext, route: CompiledRoute, p: Prepared, reply: Reply): void {
    sendReply(ctx, route.chain, reply)
    const next = ctx.afterReply
    if (next === null) return
    ctx.afterReply = null
    this.#continue(rt, ctx, route, p, next)
  }

  #pluginFailed(ctx: RequestContext, chain: Chain, err: unknown): void {
    this.#noContinuation(ctx)
    if (!(err instanceof GatewayError)) this.log.error({ err, request_id: ctx.id }, 'plugin failed')
    sendFailure(ctx, chain, err)
  }

  /** A continuation asked for by a request that did not end in a plugin's reply never runs. */
  #noContinuation(ctx: RequestContext): void {
    const next = ctx.afterReply
    if (next === null) return
    ctx.afterReply = null
    this.#done(next, ctx, false)
  }

  /** Tells the plugin its continuation is over; a throwing callback is reported, never propagated. */
  #done(next: BackgroundContinuation, copy: RequestContext, started: boolean): void {
    try {
      next.done(copy, started)
    } catch (err) {
      this.log.error({ err, request_id: copy.id }, 'background continuation: done failed')
    }
  }

  /**
   * Continues a copy of an answered request in the background (see {@link BackgroundContinuation}):
   * the same route on the same runtime (kept alive until the copy is done), the copy re-entering
   * the access phase at the plugin that asked, its response discarded, then its log phase.
   */
  #continue(
    rt: Runtime,
    ctx: RequestContext,
    route: CompiledRoute,
    p: Prepared,
    next: BackgroundContinuation,
  ): void {
    const method = next.method ?? ctx.method
    const copy = new RequestContext(
      ctx.req,
      new DiscardedResponse() as unknown as ServerResponse,
      randomUUID(),
      performance.now(),
      method,
    )
    // a streamed client body is gone: only a body a plugin buffered can be sent again
    if ((p.chunked || p.contentLength > 0) && ctx.upstreamBody === null) return this.#done(next, copy, false)
    const chain = route.chain
    const from = chain.access.findIndex((step) => resolve(step, ctx) === next.from)
    if (from === -1) return this.#done(next, copy, false)
    copy.background = true
    copy.upstreamMethod = next.method ?? ctx.upstreamMethod
    copy.host = ctx.host
    copy.path = ctx.path
    copy.query = ctx.query
    copy.clientIp = ctx.clientIp
    copy.route = ctx.route
    copy.service = ctx.service
    copy.captures = ctx.captures
    copy.consumer = ctx.consumer
    copy.credential = ctx.credential
    copy.anonymous = ctx.anonymous
    copy.upstreamPath = ctx.upstreamPath
    copy.upstreamQuery = ctx.upstreamQuery
    copy.upstreamBody = ctx.upstreamBody
    copy.maxBody = ctx.maxBody
    copy.upstreamHeaderEdits = ctx.upstreamHeaderEdits === null ? null : new Map(ctx.upstreamHeaderEdits)
    copy.responseHeaders = ctx.responseHeaders === null ? null : [...ctx.responseHeaders]
    copy.slots = ctx.slots === null ? null : ctx.slots.slice()
    // read now: the client's socket may be gone by the time the copy goes upstream
    const fwd = this.#forwardInfo(ctx, p)
    rt.inflight++
    copy.res.on('close', () => {
      rt.release()
      if (chain.log.length > 0)
        runLog(chain, copy, (name, err) => this.log.error({ err, plugin: name }, 'log phase'))
      this.#done(next, copy, true)
    })
    const proceed = (v: AccessResult): void => {
      if (v === undefined) this.#proxy(copy, route, p, fwd)
      else sendReply(copy, chain, v)
    }
    let r: AccessResult | Promise<AccessResult>
    try {
      next.prepare(copy)
      r = runAccess(chain, copy, from)
    } catch (err) {
      return this.#pluginFailed(copy, chain, err)
    }
    if (typeof (r as Promise<AccessResult> | undefined)?.then !== 'function')
      return proceed(r as AccessResult)
    ;(r as Promise<AccessResult>).then(proceed, (err: unknown) => this.#pluginFailed(copy, chain, err))
  }

  #forwardInfo(ctx: RequestContext, p: Prepared): ForwardInfo {
    return {
      host: p.hostHeader,
      proto: this.proto,
      port: String(ctx.req.socket.localPort ?? ''),
      forwardedHost: ctx.host,
      trusted: this.trust.trusts(plainAddress(ctx.req.socket.remoteAddress)),
    }
  }

  #proxy(ctx: RequestContext, route: CompiledRoute, p: Prepared, fwd?: ForwardInfo): void {
    this.#noContinuation(ctx)
    if (ctx.res.destroyed) return
    if (route.service === null) return sendError(ctx, route.chain, new GatewayError('NO_SERVICE'))
    new ProxyCall({
      ctx,
      route,
      service: route.service,
      fwd: fwd ?? this.#forwardInfo(ctx, p),
      dropped: p.dropped,
      hasBody: p.chunked || p.contentLength > 0,
      maxBody: ctx.maxBody,
    }).start()
  }

  #finished(rt: Runtime, ctx: RequestContext, chain: Chain): void {
    this.#inflight.delete(ctx.res)
    ctx.upstreamCall?.clientClosed()
    rt.release()
    if (ctx.status === 0) ctx.status = ctx.res.statusCode
    if (chain.log.length > 0)
      runLog(chain, ctx, (name, err) => this.log.error({ err, plugin: name }, 'log phase'))
    for (const o of this.observers) o(ctx)
  }

  /**
   * The checks every request passes before routing (DESIGN §5): URL length, header count,
   * duplicate Host, Transfer-Encoding on HTTP/1.0 or beside Content-Length, absolute-form
   * targets that disagree with Host, and the path's normalisation (encoded `/` or `\` refused).
   * One pass over the raw headers; throws a {@link GatewayError} (400/414/431).
   */
  prepare(ctx: RequestContext): Prepared {
    const req = ctx.req
    let url = req.url ?? '/'
    if (url.length > this.limits.maxUrlLength) throw new GatewayError('URI_TOO_LONG')
    const raw = req.rawHeaders
    if (raw.length > this.limits.maxHeaders * 2) throw new GatewayError('HEADERS_TOO_LARGE')
    let host: string | undefined
    let hosts = 0
    let te: string | undefined
    let cl: string | undefined
    let connection: string | undefined
    let xff: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      // only a handful of lengths matter: skip the lower-casing for every other header
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'host') {
            hosts++
            host = raw[i + 1]
          }
          break
        case 10:
          if (name.toLowerCase() === 'connection') connection = raw[i + 1]
          break
        case 14:
          if (name.toLowerCase() === 'content-length') {
            if (cl !== undefined && cl !== raw[i + 1]) throw new GatewayError('AMBIGUOUS_FRAMING')
            cl = raw[i + 1]
          }
          break
        case 15:
          if (name.toLowerCase() === 'x-forwarded-for')
            xff = xff === undefined ? raw[i + 1] : `${xff},${raw[i + 1]}`
          break
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') te = raw[i + 1]
          break
      }
    }
    if (hosts > 1) throw new GatewayError('DUPLICATE_HOST')
    if (te !== undefined && (cl !== undefined || req.httpVersionMinor === 0))
      throw new GatewayError('AMBIGUOUS_FRAMING')
    if (url.charCodeAt(0) !== 47 /* / */) {
      // absolute-form (RFC 9112 §3.2.2): its authority must agree with Host
      const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url)
      if (m === null) throw new GatewayError('BAD_REQUEST')
      const authority = m[1]!.toLowerCase()
      if (host !== undefined && host.toLowerCase() !== authority) throw new GatewayError('HOST_MISMATCH')
      host ??= authority
      url = m[2] === '' ? '/' : m[2]!
      if (url.charCodeAt(0) !== 47) url = `/${url}`
    }
    const q = url.indexOf('?')
    const rawPath = q === -1 ? url : url.slice(0, q)
    const path = normalizePath(rawPath)
    if (path === null) throw new GatewayError('BAD_PATH')
    ctx.path = path
    ctx.query = q === -1 ? '' : url.slice(q + 1)
    const hostHeader = host ?? ''
    ctx.host = hostOnly(hostHeader)
    const peer = plainAddress(req.socket.remoteAddress)
    ctx.clientIp = this.trust.empty ? peer : this.trust.clientIp(peer, xff)
    let contentLength = 0
    if (cl !== undefined) {
      contentLength = Number(cl)
      if (!Number.isSafeInteger(contentLength) || contentLength < 0)
        throw new GatewayError('AMBIGUOUS_FRAMING')
    }
    return {
      ctx,
      hostHeader,
      contentLength,
      chunked: te !== undefined,
      dropped: connectionTokens(connection),
    }
  }
}

/** Lower-case host without port (`[::1]:80` → `[::1]`). */
export function hostOnly(h: string): string {
  if (h === '') return ''
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']')
    return (end === -1 ? h : h.slice(0, end + 1)).toLowerCase()
  }
  const colon = h.indexOf(':')
  return (colon === -1 ? h : h.slice(0, colon)).toLowerCase()
}

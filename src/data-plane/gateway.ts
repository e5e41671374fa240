import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import type { Duplex } from 'node:stream'
import { type BackgroundContinuation, RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { AccessResult, Reply } from '../core/plugin.js'
import { newTraceId } from '../observability/trace.js'
import { backgroundCopy } from './background.js'
import { type Chain, resolve, runAccess, runLog } from './chain.js'
import { Exchange, type UpgradeRequest } from './exchange.js'
import { connectionTokens, type ForwardInfo } from './headers.js'
import { InflightResponses } from './inflight.js'
import { parseHeadersSetting } from './latency.js'
import { closeAfter, isClosing } from './linger.js'
import { ProxyCall } from './proxy.js'
import { BodyBuffers, bufferBody } from './request-buffer.js'
import { sendError, sendFailure, sendReply } from './respond.js'
import { normalizePath } from './router/normalize.js'
import type { Runtime } from './runtime.js'
import { plainAddress, type TrustedProxies } from './trust.js'
import { dropUnderscoreHeaders } from './underscores.js'
import { isWebSocket, upgradeRefusal } from './websocket.js'

/** Request limits (DESIGN §5); header size itself is Node's `maxHeaderSize` on the server. */
export interface Limits {
  maxUrlLength: number
  maxHeaders: number
  /** bytes, 0 = unlimited */
  maxBodySize: number
  /** keep request headers with `_` in their name (`PORTICO_UNDERSCORES_IN_HEADERS`; default: dropped) */
  underscoresInHeaders?: boolean
  /**
   * bytes of one buffered body kept in memory (`request_buffering`; beyond, a temporary file),
   * also how far a response is read ahead of a slow client (`response_buffering`); default 1 MiB
   */
  bodyBufferSize?: number
  /** bytes of buffered request bodies in memory on the whole node (beyond: files); default 64 MiB */
  bodyBufferTotal?: number
  /** directory of buffered bodies' temporary files (default the OS's) */
  tempDir?: string
  /** longest pause of a client sending a body being buffered, ms (nginx's client_body_timeout, 60 s) */
  clientBodyTimeout?: number
  /** Kong's latency headers sent (latency.ts bits, the `headers` setting); default all three (`latency_tokens`) */
  latencyHeaders?: number
}

export const BODY_BUFFER_DEFAULTS = {
  bodyBufferSize: 1024 * 1024,
  bodyBufferTotal: 64 * 1024 * 1024,
  clientBodyTimeout: 60_000,
}

/** A built-in endpoint on the proxy listener (`/healthz`): answered before routing and plugins. */
export type Builtin = (req: IncomingMessage, res: ServerResponse) => void

/** What the forwarded headers take from a connection, kept on its socket (see `#forwardInfo`). */
interface PeerFacts {
  port: string
  trusted: boolean
}
const kPeer = Symbol('portico.peer')

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
  readonly #inflight = new InflightResponses()
  /** connections that came in through 'upgrade' (WebSocket tunnels among them) */
  readonly #upgrades = new Set<UpgradeRequest>()
  readonly builtins = new Map<string, Builtin>()
  readonly observers: RequestObserver[] = []
  /** the node's budget for buffered request bodies */
  readonly buffers: BodyBuffers
  readonly #latencyHeaders: number

  constructor(
    runtime: Runtime,
    readonly limits: Limits,
    readonly trust: TrustedProxies,
    readonly log: Logger,
  ) {
    this.#runtime = runtime
    this.buffers = new BodyBuffers({
      memory: limits.bodyBufferSize ?? BODY_BUFFER_DEFAULTS.bodyBufferSize,
      total: limits.bodyBufferTotal ?? BODY_BUFFER_DEFAULTS.bodyBufferTotal,
      dir: limits.tempDir ?? tmpdir(),
      idleTimeout: limits.clientBodyTimeout ?? BODY_BUFFER_DEFAULTS.clientBodyTimeout,
    })
    this.#latencyHeaders = limits.latencyHeaders ?? parseHeadersSetting(undefined)
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
    this.#inflight.forEach((res) => {
      if (!res.headersSent) res.shouldKeepAlive = false
    })
    // tunnels (WebSockets) have no response to finish: end them now
    for (const u of this.#upgrades) if (u.tunnelled) u.socket.end()
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
    this.#walk(req, res, null)
  }

  /**
   * node:http 'upgrade' listener. Node hands over the socket with no response object: one is
   * attached by hand so that every answer before a 101 (a 404, a plugin's 401, an upstream that
   * refused the upgrade) is written as on any request, then the connection ends. A WebSocket
   * handshake then walks the same steps as a request; any other token (h2c…) is ignored, as
   * Kong's nginx does: the request is answered as ordinary HTTP and nothing is tunnelled.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // behind a request the gateway refused on this connection: never routed, and the socket,
    // now ours rather than node:http's, ends after what was already written
    if (isClosing(req.socket)) {
      socket.end()
      return
    }
    const res = new ServerResponse(req)
    res.assignSocket(socket as Socket)
    res.shouldKeepAlive = false
    const up: UpgradeRequest = { socket, head, websocket: isWebSocket(req), tunnelled: false }
    this.#upgrades.add(up)
    socket.once('close', () => this.#upgrades.delete(up))
    // a ServerResponse made by hand has none of the server's finish handling: the answer ends
    // the connection here (a tunnelled one is detached before this could fire)
    res.once('finish', () => {
      if (!up.tunnelled) socket.end()
    })
    this.#walk(req, res, up)
  }

  /**
   * Every request's walk, HTTP or upgrade: bookkeeping (the runtime counted in `inflight`, the
   * log phase and observers when the response closes), prepare, built-ins, route, the access
   * phase, then the upstream. Kept as one function on the hot path: each step is a plain
   * statement, and splitting it would cost the plain route a call and a closure per request.
   */
  #walk(req: IncomingMessage, res: ServerResponse, up: UpgradeRequest | null): void {
    // a request parsed behind one the gateway refused on this connection is never routed
    if (isClosing(req.socket)) return
    const rt = this.#runtime
    rt.inflight++
    // the request id: 32 random hex digits, nginx's $request_id as Kong sends it, sliced from a
    // pool of random hex (trace.ts) rather than a UUID formatted per request; no plugin needs a
    // UUID here (correlation-id makes its own)
    const ctx = new RequestContext(req, res, newTraceId(), performance.now())
    ctx.latencyHeaders = this.#latencyHeaders
    const x = new Exchange(rt, ctx, up)
    if (this.#draining) res.shouldKeepAlive = false
    x.slot = this.#inflight.add(res)
    // one 'close' listener per request (not `once`: close fires once, and once() wraps)
    res.on('close', () => this.#finished(x))
    try {
      this.prepare(x)
    } catch (err) {
      closeAfter(res, false)
      return sendFailure(ctx, rt.unmatched, err)
    }
    const builtin = this.builtins.get(ctx.path)
    if (builtin !== undefined) return builtin(req, res)
    const match = rt.router.find(ctx.method, ctx.host, ctx.path, req)
    if (match === null) return sendError(ctx, rt.unmatched, new GatewayError('NO_ROUTE'))
    const route = match.value
    x.route = route
    x.chain = route.chain
    ctx.route = route.info
    ctx.captures = match.captures
    ctx.positionalCaptures = match.positional
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
    if (route.httpsOnly && this.#plainHttp(x)) return this.#requireHttps(x)
    if (up !== null) {
      const refused = upgradeRefusal(x, route)
      if (refused !== null) return sendError(ctx, route.chain, refused)
    }
    if (this.limits.maxBodySize > 0 && x.contentLength > this.limits.maxBodySize) {
      closeAfter(res, true)
      return sendError(ctx, route.chain, new GatewayError('BODY_TOO_LARGE'))
    }
    // plugins may lower it (request-size-limiting) before the body is read or streamed
    ctx.maxBody = this.limits.maxBodySize
    if (route.chain.access.length === 0) return this.#proxy(x, ctx)
    this.#access(x, 0)
  }

  /** The access phase from step `from` on, then the upstream or the reply. */
  #access(x: Exchange, from: number): void {
    const chain = x.chain
    const ctx = x.ctx
    let r: AccessResult | Promise<AccessResult>
    try {
      r = runAccess(chain, ctx, from)
    } catch (err) {
      return this.#pluginFailed(ctx, chain, err)
    }
    if (r === undefined) return this.#proxy(x, ctx)
    if (typeof (r as Promise<AccessResult>).then !== 'function') return this.#replied(x, r as Reply)
    ;(r as Promise<AccessResult>).then(
      (v) => (v === undefined ? this.#proxy(x, ctx) : this.#replied(x, v)),
      (err: unknown) => this.#pluginFailed(ctx, chain, err),
    )
  }

  /** A plugin answered: send its reply, then continue the request in the background if it asked. */
  #replied(x: Exchange, reply: Reply): void {
    const ctx = x.ctx
    sendReply(ctx, x.chain, reply)
    const next = ctx.afterReply
    if (next === null) return
    ctx.afterReply = null
    this.#continue(x, next)
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
  #continue(x: Exchange, next: BackgroundContinuation): void {
    const ctx = x.ctx
    const copy = backgroundCopy(ctx, next.method)
    // a streamed client body is gone: only a body a plugin buffered can be sent again
    if (x.hasBody && ctx.upstreamBody === null) return this.#done(next, copy, false)
    const chain = x.chain
    const from = chain.access.findIndex((step) => resolve(step, ctx) === next.from)
    if (from === -1) return this.#done(next, copy, false)
    // read now: the client's socket may be gone by the time the copy goes upstream
    const fwd = this.#forwardInfo(x)
    const rt = x.rt
    rt.inflight++
    copy.res.on('close', () => {
      rt.release()
      if (chain.log.length > 0)
        runLog(chain, copy, (name, err) => this.log.error({ err, plugin: name }, 'log phase'))
      this.#done(next, copy, true)
    })
    const proceed = (v: AccessResult): void => {
      if (v === undefined) this.#proxy(x, copy, fwd)
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

  /** The request reached the gateway over plain HTTP (a trusted proxy's X-Forwarded-Proto counts, as in Kong). */
  #plainHttp(x: Exchange): boolean {
    if (x.scheme === 'https') return false
    const forwarded = x.ctx.req.headers['x-forwarded-proto']
    if (typeof forwarded !== 'string' || !this.trust.trusts(plainAddress(x.ctx.req.socket.remoteAddress)))
      return true
    return forwarded.toLowerCase() !== 'https'
  }

  /** Kong's answer to an https-only route asked over HTTP: 426 with `Upgrade`, or a redirect. */
  #requireHttps(x: Exchange): void {
    const ctx = x.ctx
    const code = x.route!.entity.https_redirect_status_code
    if (code === 426) {
      const headers = { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' }
      return sendError(ctx, x.chain, new GatewayError('HTTPS_REQUIRED', undefined, { headers }))
    }
    const raw = ctx.req.url ?? '/'
    const uri = raw.startsWith('/') ? raw : ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`
    const location = `https://${x.hostHeader || ctx.host}${uri}`
    sendReply(ctx, x.chain, { status: code, headers: { location } })
  }

  #forwardInfo(x: Exchange): ForwardInfo {
    const socket = x.ctx.req.socket as Socket & { [kPeer]?: PeerFacts }
    // the listener port's string and whether the peer is a trusted proxy are the connection's:
    // worked out on its first request, not on every one of a keep-alive connection
    let peer = socket[kPeer]
    if (peer === undefined) {
      peer = {
        port: String(socket.localPort ?? ''),
        trusted: this.trust.trusts(plainAddress(socket.remoteAddress)),
      }
      socket[kPeer] = peer
    }
    return {
      host: x.hostHeader,
      proto: x.scheme,
      port: peer.port,
      forwardedHost: x.ctx.host,
      trusted: peer.trusted,
    }
  }

  /**
   * The upstream step: `ctx` is the client's request, or a background copy of it. A client body
   * on a route with `request_buffering` (Kong's default) is read completely first, so a slow
   * uploader holds a socket and a bounded buffer, never one of the upstream's connections; a
   * request without a body, or whose body a plugin already read, goes on at once.
   */
  #proxy(x: Exchange, ctx: RequestContext, fwd?: ForwardInfo): void {
    this.#noContinuation(ctx)
    if (ctx.res.destroyed) return
    const route = x.route
    if (route?.service == null) return sendError(ctx, x.chain, new GatewayError('NO_SERVICE'))
    if (x.hasBody && ctx.upstreamBody === null && route.requestBuffering && ctx === x.ctx)
      return this.#buffered(x, ctx)
    new ProxyCall(ctx, x, fwd ?? this.#forwardInfo(x), this.buffers.limits.memory).start()
  }

  /** Reads the client's body (memory or temporary file), then calls the upstream with it. */
  #buffered(x: Exchange, ctx: RequestContext): void {
    bufferBody(ctx, this.buffers, x.contentLength).then(
      (body) => {
        // the client went away while the last bytes were being written
        if (ctx.res.destroyed) return body.release()
        x.body = body
        if (body.memory !== null) ctx.upstreamBody = body.memory
        // sent with a length, as nginx sends a buffered body, whatever the client's framing was
        ctx.setUpstreamHeader('content-length', String(body.size))
        new ProxyCall(ctx, x, this.#forwardInfo(x), this.buffers.limits.memory).start()
      },
      (err: unknown) => {
        if (ctx.res.destroyed) return
        if (!(err instanceof GatewayError))
          this.log.error({ err, request_id: ctx.id }, 'request body buffering failed')
        // a body left unread (too large, a stalled client) cannot be followed on this connection
        closeAfter(ctx.res, (err as GatewayError).code === 'BODY_TOO_LARGE')
        if (!ctx.req.complete) ctx.req.resume()
        sendFailure(ctx, x.chain, err)
      },
    )
  }

  #finished(x: Exchange): void {
    const ctx = x.ctx
    this.#inflight.delete(x.slot)
    ctx.upstreamCall?.clientClosed()
    x.body?.release()
    x.rt.release()
    if (ctx.status === 0) ctx.status = ctx.res.statusCode
    const chain = x.chain
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
  prepare(x: Exchange): void {
    const ctx = x.ctx
    const req = ctx.req
    if (this.limits.underscoresInHeaders !== true) dropUnderscoreHeaders(req)
    let url = req.url ?? '/'
    if (url.length > this.limits.maxUrlLength) throw new GatewayError('URI_TOO_LONG')
    const raw = req.rawHeaders
    if (raw.length > this.limits.maxHeaders * 2) throw new GatewayError('HEADERS_TOO_LARGE')
    let host: string | undefined
    let hosts = 0
    // HTTP/2: the authority is the `:authority` pseudo-header (a `host` beside it must agree)
    let authority: string | undefined
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
          if (name === ':authority') authority = raw[i + 1]
          else if (name.toLowerCase() === 'connection') connection = raw[i + 1]
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
    if (authority !== undefined) {
      if (host !== undefined && host.toLowerCase() !== authority.toLowerCase())
        throw new GatewayError('HOST_MISMATCH')
      host = authority
    }
    if (te !== undefined && (cl !== undefined || (req.httpVersionMajor === 1 && req.httpVersionMinor === 0)))
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
    x.hostHeader = hostHeader
    x.contentLength = contentLength
    // HTTP/2 frames the body itself: without a Content-Length, a body of unknown length follows
    // unless the headers ended the stream (it goes upstream chunked)
    x.chunked =
      te !== undefined ||
      (cl === undefined &&
        req.httpVersionMajor === 2 &&
        (req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === false)
    x.dropped = connectionTokens(connection)
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

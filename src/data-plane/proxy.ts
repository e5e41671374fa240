import { Transform, type TransformCallback } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import type { ResponseHead } from '../core/plugin.js'
import { runBody, runResponse } from './chain.js'
import { downstreamHeaders, type ForwardInfo, toHeaderObject, upstreamHeaders } from './headers.js'
import { sendError, writeHead } from './respond.js'
import type { CompiledRoute, CompiledService } from './runtime.js'
import type { PickInput, Target } from './upstream/types.js'
import { classifyUpstreamError } from './upstream-errors.js'

const NO_HASH: PickInput = { hashKey: undefined }
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** Per-request settings the proxy needs from the gateway. */
export interface ProxyRequest {
  ctx: RequestContext
  route: CompiledRoute
  service: CompiledService
  fwd: ForwardInfo
  /** headers the client's `Connection` header declared hop-by-hop */
  dropped: Set<string> | null
  /** the client sends a body (Content-Length > 0 or chunked) */
  hasBody: boolean
  /** largest body accepted (bytes), 0 = no limit: `ctx.maxBody` after the access phase */
  maxBody: number
}

class WriteTimeoutError extends Error {
  readonly code = 'PORTICO_WRITE_TIMEOUT'
}

class ReadTimeoutError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT'
}

/**
 * undici runs headers/body timeouts on its coarse timers (about 1 s resolution): fine for
 * Kong's 60 s default, late for a 200 ms read_timeout. Below this, the proxy keeps its own
 * native timer, so a short timeout fires when configured.
 */
const PRECISE_READ_TIMEOUT_BELOW = 2000

class BodyTooLargeError extends Error {
  readonly code = 'PORTICO_BODY_TOO_LARGE'
}

/**
 * Streams the client's body upstream while enforcing the service's write timeout (longest gap
 * between two chunks reaching the upstream) and the body size limit for bodies without a
 * Content-Length. Only requests with a body pay for it.
 */
class BodyGuard extends Transform {
  #bytes = 0
  #timer: NodeJS.Timeout | null = null
  constructor(
    readonly writeTimeout: number,
    readonly maxBody: number,
  ) {
    super()
    this.#arm()
  }
  #arm(): void {
    if (this.writeTimeout <= 0) return
    if (this.#timer !== null) this.#timer.refresh()
    else
      this.#timer = setTimeout(
        () => this.destroy(new WriteTimeoutError('upstream write timeout')),
        this.writeTimeout,
      )
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bytes += chunk.length
    if (this.maxBody > 0 && this.#bytes > this.maxBody)
      return cb(new BodyTooLargeError('request body too large'))
    this.#arm()
    cb(null, chunk)
  }
  override _flush(cb: TransformCallback): void {
    this.stop()
    cb()
  }
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }
  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.stop()
    cb(err)
  }
}

/**
 * One proxied request: picks a target, dispatches through the target's undici pool with the
 * legacy handler interface (undici calls it directly: raw header buffers, no wrapper object),
 * streams the response with backpressure, retries when it is safe, and maps failures to
 * 502/503/504 through {@link classifyUpstreamError}.
 */
export class ProxyCall implements Dispatcher.DispatchHandler {
  readonly #p: ProxyRequest
  #target: Target | null = null
  #attempt = 0
  #abort: ((err?: Error) => void) | null = null
  #resume: (() => void) | null = null
  #responded = false
  #done = false
  #status = 0
  #head: ResponseHead | null = null
  #chunks: Buffer[] | null = null
  #guard: BodyGuard | null = null
  #readTimer: NodeJS.Timeout | null = null
  /** the response closed: when that happens before the upstream call is done, cancel it */
  clientClosed(): void {
    this.#clearReadTimer()
    if (!this.#done) {
      this.#done = true
      this.#abort?.(new Error('client closed the connection'))
      this.#finishTarget()
    }
  }
  #onDrain = (): void => {
    this.#resume?.()
  }

  constructor(p: ProxyRequest) {
    this.#p = p
  }

  start(): void {
    this.#p.ctx.upstreamCall = this
    this.#dispatch(undefined)
  }

  #dispatch(exclude: Target | undefined): void {
    const { ctx, service } = this.#p
    const target = service.balancer.pick(
      service.hashInput === null ? NO_HASH : service.hashInput(ctx),
      exclude,
    )
    if (target === undefined) {
      this.#done = true
      sendError(ctx, this.#p.route.chain, new GatewayError('NO_HEALTHY_TARGET'))
      return
    }
    this.#target = target
    ctx.target = target.address
    service.balancer.begin(target)
    const pool = service.pools.get(target)!
    let body: Dispatcher.DispatchOptions['body'] = null
    if (ctx.upstreamBody !== null) body = ctx.upstreamBody
    else if (this.#p.hasBody) {
      const guard = new BodyGuard(service.writeTimeout, this.#p.maxBody)
      this.#guard = guard
      ctx.req.pipe(guard)
      body = guard
    }
    const fwd = this.#p.fwd
    if (!this.#p.route.preserveHost) fwd.host = service.hostHeaders.get(target)!
    const path = ctx.upstreamQuery === '' ? ctx.upstreamPath : `${ctx.upstreamPath}?${ctx.upstreamQuery}`
    if (Number.isNaN(ctx.upstreamStart)) ctx.upstreamStart = performance.now()
    if (service.readTimeout < PRECISE_READ_TIMEOUT_BELOW) this.#armReadTimer(service.readTimeout)
    pool.dispatch(
      {
        path,
        method: ctx.upstreamMethod,
        headers: upstreamHeaders(ctx, fwd, this.#p.dropped),
        body,
        headersTimeout: service.readTimeout,
        bodyTimeout: service.readTimeout,
      },
      this,
    )
  }

  #armReadTimer(ms: number): void {
    if (this.#readTimer !== null) this.#readTimer.refresh()
    else {
      this.#readTimer = setTimeout(() => {
        this.#readTimer = null
        const err = new ReadTimeoutError('upstream read timeout')
        if (this.#abort !== null) this.#abort(err)
        else this.#fail(err)
      }, ms)
    }
  }

  #clearReadTimer(): void {
    if (this.#readTimer !== null) clearTimeout(this.#readTimer)
    this.#readTimer = null
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort
    if (this.#done) abort(new Error('client closed the connection'))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    const { ctx, route } = this.#p
    if (this.#done) return false
    ctx.upstreamHeadersAt = performance.now()
    this.#guard?.stop()
    this.#status = statusCode
    this.#resume = resume
    const flat = downstreamHeaders(rawHeaders)
    const chain = route.chain
    if (chain.response.length === 0) {
      this.#responded = true
      writeHead(ctx, statusCode, flat)
      return true
    }
    const head: ResponseHead = {
      status: statusCode,
      headers: toHeaderObject(flat),
      buffer: false,
      taps: null,
      fromPlugin: false,
    }
    this.#head = head
    const r = runResponse(chain, ctx, head)
    if (r === undefined) {
      this.#afterResponsePhase(head)
      return true
    }
    // an async response handler: hold the upstream body until it has run
    r.then(
      () => {
        if (this.#done) return
        this.#afterResponsePhase(head)
        this.#onDrain()
      },
      (err: unknown) => this.#fail(err),
    )
    return false
  }

  #afterResponsePhase(head: ResponseHead): void {
    if (head.buffer && this.#p.route.chain.body.length > 0) {
      this.#chunks = []
      return
    }
    this.#responded = true
    writeHead(this.#p.ctx, head.status, head.headers)
  }

  onData(chunk: Buffer): boolean {
    if (this.#done) return false
    if (this.#readTimer !== null) this.#readTimer.refresh()
    if (this.#chunks !== null) {
      this.#chunks.push(chunk)
      return true
    }
    const taps = this.#head?.taps
    if (taps) for (const t of taps) t.chunk(chunk)
    const res = this.#p.ctx.res
    if (res.write(chunk)) return true
    res.once('drain', this.#onDrain)
    return false
  }

  onComplete(): void {
    this.#clearReadTimer()
    if (this.#done) return
    this.#done = true
    const { ctx, route } = this.#p
    const head = this.#head
    if (this.#chunks !== null && head !== null) {
      let body: Buffer = Buffer.concat(this.#chunks)
      body = runBody(route.chain, ctx, head, body)
      if (head.headers['content-length'] !== undefined) head.headers['content-length'] = String(body.length)
      this.#responded = true
      writeHead(ctx, head.status, head.headers)
      // taps see the body the client gets, buffered or streamed (as sendReply does)
      if (head.taps)
        for (const t of head.taps) {
          t.chunk(body)
          t.end()
        }
      ctx.res.end(body)
    } else {
      if (head?.taps) for (const t of head.taps) t.end()
      ctx.res.end()
    }
    this.#finishTarget()
    // any HTTP answer is reported as such; the balancer sorts the status against the passive lists
    this.#p.service.balancer.report(this.#target!, 'success', this.#status)
  }

  onError(err: Error): void {
    this.#fail(err)
  }

  onUpgrade(): void {
    this.#fail(new Error('unexpected upgrade'))
  }

  #finishTarget(): void {
    if (this.#target !== null) this.#p.service.balancer.end(this.#target)
  }

  #fail(err: unknown): void {
    this.#clearReadTimer()
    const { ctx, route, service } = this.#p
    const head = this.#head
    if (head?.taps) for (const t of head.taps) t.abort()
    if (this.#done) return
    this.#guard?.stop()
    const target = this.#target
    this.#finishTarget()
    if ((err as { code?: string }).code === 'PORTICO_BODY_TOO_LARGE') {
      this.#done = true
      if (!this.#responded) {
        ctx.res.shouldKeepAlive = false
        return sendError(ctx, route.chain, new GatewayError('BODY_TOO_LARGE'))
      }
      ctx.res.destroy()
      return
    }
    const f = classifyUpstreamError(err)
    if (target !== null) service.balancer.report(target, f.outcome)
    if (this.#responded) {
      // headers are out: the only honest signal left is cutting the connection
      this.#done = true
      ctx.res.destroy()
      return
    }
    // a streamed body cannot be replayed once undici has read from it; a buffered one can
    const replayable = !this.#p.hasBody || ctx.upstreamBody !== null
    const safe = replayable && (f.notSent || IDEMPOTENT.has(ctx.upstreamMethod))
    if (safe && this.#attempt < service.retries && !ctx.res.destroyed) {
      this.#attempt++
      this.#head = null
      this.#abort = null
      this.#dispatch(target ?? undefined)
      return
    }
    this.#done = true
    sendError(ctx, route.chain, new GatewayError(f.code, undefined, { cause: err }))
  }
}

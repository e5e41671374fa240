import type { Duplex } from 'node:stream'
import type { Dispatcher, Pool } from 'undici'
import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import type { ResponseHead, UpstreamAttempt } from '../core/plugin.js'
import { BodyGuard } from './body-guard.js'
import { resolve, runBody, runResponse } from './chain.js'
import type { Exchange } from './exchange.js'
import { downstreamHeaders, type ForwardInfo, toHeaderObject, upstreamHeaders } from './headers.js'
import { closeAfter } from './linger.js'
import { admit, leave } from './pools.js'
import { RawHandler, type RawResponseHandler } from './raw-handler.js'
import { sendError, writeHead } from './respond.js'
import { backoffMs } from './retry.js'
import type { CompiledRoute, CompiledService } from './runtime.js'
import type { PickInput, Target, TargetVeto } from './upstream/types.js'
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js'
import { openTunnel } from './websocket.js'

const NO_HASH: PickInput = { hashKey: undefined }
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

class ReadTimeoutError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT'
}

/**
 * undici runs headers/body timeouts on its coarse timers (about 1 s resolution): fine for
 * Kong's 60 s default, late for a 200 ms read_timeout. Below this, the proxy keeps its own
 * native timer, so a short timeout fires when configured.
 */
const PRECISE_READ_TIMEOUT_BELOW = 2000

/** An upstream status line outside 100–599 (`000`, `099`): no answer a client could be given. */
class BadStatusError extends Error {
  readonly code = 'PORTICO_BAD_STATUS'
}

const CLIENT_CLOSED = 'client closed the connection'

const FAILURE_OF: Record<UpstreamFailure['outcome'], UpstreamAttempt['failure']> = {
  success: '',
  tcp_failure: 'connect',
  timeout: 'timeout',
  http_failure: 'bad_response',
}

/**
 * One proxied request: picks a target, dispatches through the target's undici pool with
 * undici's handler API (the controller keeps undici's raw header buffers, which the response is
 * built from), streams the response with backpressure, retries when it is safe, and maps
 * failures to 502/503/504 through {@link classifyUpstreamError}. A WebSocket handshake is the
 * same call with undici's `upgrade` option: a 101 opens the tunnel, any other answer is
 * answered as on any request.
 */
export class ProxyCall implements RawResponseHandler, TargetVeto {
  /** the request going upstream: the client's, or a background copy of it */
  readonly #ctx: RequestContext
  readonly #x: Exchange
  readonly #route: CompiledRoute
  readonly #service: CompiledService
  readonly #fwd: ForwardInfo
  /** largest body accepted (bytes), 0 = no limit: `ctx.maxBody` after the access phase */
  readonly #maxBody: number
  #target: Target | null = null
  /** the pool this attempt holds a place on (see `admit`) */
  #pool: Pool | null = null
  #attempt = 0
  #controller: Dispatcher.DispatchController | null = null
  #responded = false
  #done = false
  #status = 0
  #head: ResponseHead | null = null
  #chunks: Buffer[] | null = null
  #guard: BodyGuard | null = null
  #readTimer: NodeJS.Timeout | null = null
  /** the pause before a retry (cleared if the client leaves during it) */
  #backoff: NodeJS.Timeout | null = null
  /** `performance.now()` when the current attempt was sent */
  #attemptAt = 0
  /** the plugins watching attempts were told how this attempt ended (once per attempt) */
  #attemptEnded = false
  /** the failure a retry was meant to get past: answered if the retry finds no target */
  #lastFailure: GatewayError | null = null
  /** see #readAhead: -1 until worked out */
  #aheadBound = -1
  readonly #bufferSize: number

  constructor(ctx: RequestContext, x: Exchange, fwd: ForwardInfo, bufferSize: number) {
    this.#ctx = ctx
    this.#x = x
    this.#route = x.route!
    this.#service = x.route!.service!
    this.#fwd = fwd
    this.#maxBody = ctx.maxBody
    this.#bufferSize = bufferSize
  }

  /** the response closed: when that happens before the upstream call is done, cancel it */
  clientClosed(): void {
    this.#clearReadTimer()
    if (this.#backoff !== null) clearTimeout(this.#backoff)
    this.#backoff = null
    if (!this.#done) {
      this.#done = true
      this.#controller?.abort(new Error(CLIENT_CLOSED))
      this.#finishTarget()
    }
  }

  #onDrain = (): void => {
    this.#controller?.resume()
  }

  start(): void {
    this.#ctx.upstreamCall = this
    this.#service.retryBudget.request()
    this.#dispatch(undefined)
  }

  /** {@link TargetVeto}: a plugin watching attempts (a per-target breaker) refuses this target */
  refuses(address: string): boolean {
    for (const step of this.#route.chain.upstream) {
      const inst = resolve(step, this.#ctx)
      if (inst?.admits !== undefined && !inst.admits(this.#ctx, address)) return true
    }
    return false
  }

  #dispatch(exclude: Target | undefined): void {
    const ctx = this.#ctx
    const service = this.#service
    const watched = this.#route.chain.upstream.length > 0
    const target = service.balancer.pick(
      service.hashInput === null ? NO_HASH : service.hashInput(ctx),
      exclude,
      watched ? this : undefined,
    )
    if (target === undefined) {
      this.#done = true
      const last = this.#lastFailure
      // a retry with nowhere to go (every other target refused by a breaker): the failure it
      // was meant to get past is the answer
      if (last !== null && watched) service.retryBudget.vetoed++
      sendError(ctx, this.#route.chain, last ?? new GatewayError('NO_HEALTHY_TARGET'))
      return
    }
    const pool = service.pools.get(target)!
    if (!admit(pool)) {
      this.#done = true
      sendError(ctx, this.#route.chain, new GatewayError('UPSTREAM_BUSY'))
      return
    }
    this.#pool = pool
    this.#target = target
    ctx.target = target.address
    service.balancer.begin(target)
    this.#attemptAt = performance.now()
    this.#attemptEnded = false
    if (watched) this.#attemptStart(target.address)
    const fwd = this.#fwd
    if (!this.#route.preserveHost) fwd.host = service.hostHeaders.get(target)!
    const path = ctx.upstreamQuery === '' ? ctx.upstreamPath : `${ctx.upstreamPath}?${ctx.upstreamQuery}`
    if (Number.isNaN(ctx.upstreamStart)) ctx.upstreamStart = performance.now()
    if (service.readTimeout < PRECISE_READ_TIMEOUT_BELOW) this.#armReadTimer(service.readTimeout)
    pool.dispatch(
      {
        path,
        method: ctx.upstreamMethod,
        headers: upstreamHeaders(ctx, fwd, this.#x.dropped),
        body: this.#body(),
        headersTimeout: service.readTimeout,
        bodyTimeout: service.readTimeout,
        // a background copy is never a handshake: its response goes nowhere
        upgrade: this.#x.upgrade?.websocket === true && ctx === this.#x.ctx ? 'websocket' : null,
      },
      // undici's handler API without its per-response header parse (raw-handler.ts)
      new RawHandler(this) as unknown as Dispatcher.DispatchHandler,
    )
  }

  /**
   * A body in memory (a plugin's, or the route's `request_buffering`), one in a temporary file
   * (read anew per attempt), both replayable; else the client's streamed through the guard, or none.
   */
  #body(): Dispatcher.DispatchOptions['body'] {
    const ctx = this.#ctx
    if (ctx.upstreamBody !== null) return ctx.upstreamBody
    const buffered = this.#x.body
    if (buffered !== null && ctx === this.#x.ctx) return buffered.stream()
    if (!this.#x.hasBody) return null
    const guard = new BodyGuard(this.#service.writeTimeout, this.#maxBody)
    this.#guard = guard
    ctx.req.pipe(guard)
    return guard
  }

  #armReadTimer(ms: number): void {
    if (this.#readTimer !== null) this.#readTimer.refresh()
    else {
      this.#readTimer = setTimeout(() => {
        this.#readTimer = null
        const err = new ReadTimeoutError('upstream read timeout')
        if (this.#controller !== null) this.#controller.abort(err)
        else this.#fail(err)
      }, ms)
    }
  }

  #clearReadTimer(): void {
    if (this.#readTimer !== null) clearTimeout(this.#readTimer)
    this.#readTimer = null
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#done) controller.abort(new Error(CLIENT_CLOSED))
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    if (this.#done) return
    if (statusCode < 200) {
      // 1xx: interim (RFC 9110 §15.2; an unsolicited 100 never gets this far, see
      // upstream/interim.ts). The final answer follows on the same exchange, so an interim one
      // is never the client's status; 000–099 is no status
      if (statusCode < 100) controller.abort(new BadStatusError(`upstream status ${statusCode}`))
      return
    }
    const ctx = this.#ctx
    ctx.upstreamHeadersAt = performance.now()
    if (this.#route.chain.upstream.length > 0) this.#attemptEnd(statusCode, '')
    this.#guard?.stop()
    // the upstream answered before it read the whole body (an early 413): the rest of the
    // client's body is never read, so this connection cannot carry another request
    if (this.#guard !== null && !ctx.req.complete) closeAfter(ctx.res, true)
    this.#status = statusCode
    const flat = downstreamHeaders(controller.rawHeaders as Buffer[])
    const chain = this.#route.chain
    if (chain.response.length === 0) {
      this.#responded = true
      writeHead(ctx, statusCode, flat)
      return
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
    if (r === undefined) return this.#afterResponsePhase(head)
    // an async response handler: hold the upstream body until it has run
    controller.pause()
    r.then(
      () => {
        if (this.#done) return
        this.#afterResponsePhase(head)
        controller.resume()
      },
      (err: unknown) => this.#fail(err),
    )
  }

  #afterResponsePhase(head: ResponseHead): void {
    if (head.buffer && this.#route.chain.body.length > 0) {
      this.#chunks = []
      return
    }
    this.#responded = true
    writeHead(this.#ctx, head.status, head.headers)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return
    if (this.#readTimer !== null) this.#readTimer.refresh()
    if (this.#chunks !== null) {
      this.#chunks.push(chunk)
      return
    }
    const taps = this.#head?.taps
    if (taps) for (const t of taps) t.chunk(chunk)
    const res = this.#ctx.res
    if (res.write(chunk)) return
    // a slow client: with the route's response_buffering the upstream is read on, up to the
    // bound, so it is done (and its connection free) without waiting for the client
    if (res.writableLength < this.#readAhead()) return
    controller.pause()
    res.once('drain', this.#onDrain)
  }

  /**
   * How far the response may be read ahead of the client (bytes): the node's buffer bound with
   * `response_buffering` unless the upstream said `X-Accel-Buffering: no` (as to nginx), else
   * nothing. Worked out once per response, and only once a client is slower than its upstream.
   */
  #readAhead(): number {
    if (this.#aheadBound >= 0) return this.#aheadBound
    let bound = this.#route.responseBuffering ? this.#bufferSize : 0
    const raw = this.#controller?.rawHeaders as Buffer[] | undefined
    if (bound > 0 && raw !== undefined)
      for (let i = 0; i < raw.length; i += 2)
        if (
          raw[i]!.length === 17 &&
          raw[i]!.toString('latin1').toLowerCase() === 'x-accel-buffering' &&
          raw[i + 1]!.toString('latin1').trim().toLowerCase() === 'no'
        )
          bound = 0
    this.#aheadBound = bound
    return bound
  }

  onResponseEnd(): void {
    this.#clearReadTimer()
    if (this.#done) return
    this.#done = true
    const ctx = this.#ctx
    const head = this.#head
    if (this.#chunks !== null && head !== null) {
      let body: Buffer = Buffer.concat(this.#chunks)
      body = runBody(this.#route.chain, ctx, head, body)
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
    this.#discardClientBody()
    this.#finishTarget()
    // any HTTP answer is reported as such; the balancer sorts the status against the passive lists
    this.#service.balancer.report(this.#target!, 'success', this.#status)
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#fail(err)
  }

  /** The upstream switched protocols: only a WebSocket handshake asked it to (undici refuses others). */
  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    _statusCode: number,
    _headers: unknown,
    socket: Duplex,
  ): void {
    this.#clearReadTimer()
    const up = this.#x.upgrade
    if (this.#done || up === null) {
      socket.destroy()
      return
    }
    this.#done = true
    this.#status = 101
    this.#ctx.upstreamHeadersAt = performance.now()
    if (this.#route.chain.upstream.length > 0) this.#attemptEnd(101, '')
    this.#finishTarget()
    this.#service.balancer.report(this.#target!, 'success', 101)
    openTunnel(this.#ctx, up, controller.rawHeaders as Buffer[], socket)
  }

  /**
   * The client is still sending a body nobody will read (the upstream answered early, or failed):
   * stop feeding the upstream and let the bytes drain into nothing while the connection closes.
   */
  #discardClientBody(): void {
    const guard = this.#guard
    const req = this.#ctx.req
    if (guard === null || req.complete) return
    req.unpipe(guard)
    req.resume()
  }

  #attemptStart(address: string): void {
    for (const step of this.#route.chain.upstream)
      resolve(step, this.#ctx)?.attemptStart?.(this.#ctx, address)
  }

  /** tells the plugins watching attempts how this one ended */
  #attemptEnd(status: number, failure: UpstreamAttempt['failure']): void {
    // an answer whose body then failed was already reported by its status
    if (this.#attemptEnded) return
    this.#attemptEnded = true
    const ctx = this.#ctx
    const attempt: UpstreamAttempt = {
      target: this.#target?.address ?? '',
      status,
      failure,
      ms: performance.now() - this.#attemptAt,
      retry: this.#attempt,
    }
    for (const step of this.#route.chain.upstream) resolve(step, ctx)?.attemptEnd?.(ctx, attempt)
  }

  #finishTarget(): void {
    if (this.#target !== null) this.#service.balancer.end(this.#target)
    if (this.#pool !== null) leave(this.#pool)
    this.#pool = null
  }

  #fail(err: unknown): void {
    this.#clearReadTimer()
    const ctx = this.#ctx
    const chain = this.#route.chain
    const service = this.#service
    const head = this.#head
    if (head?.taps) for (const t of head.taps) t.abort()
    if (this.#done) return
    this.#guard?.stop()
    const target = this.#target
    this.#finishTarget()
    if ((err as { code?: string }).code === 'PORTICO_BODY_TOO_LARGE') {
      this.#done = true
      if (!this.#responded) {
        closeAfter(ctx.res, true)
        this.#discardClientBody()
        return sendError(ctx, chain, new GatewayError('BODY_TOO_LARGE'))
      }
      ctx.res.destroy()
      return
    }
    const f = classifyUpstreamError(err)
    if (target !== null) service.balancer.report(target, f.outcome)
    if (target !== null && chain.upstream.length > 0) this.#attemptEnd(0, FAILURE_OF[f.outcome])
    if (this.#responded) {
      // headers are out: the only honest signal left is cutting the connection
      this.#done = true
      ctx.res.destroy()
      return
    }
    // a streamed body cannot be replayed once undici has read from it; a buffered one can
    const replayable = !this.#x.hasBody || ctx.upstreamBody !== null || this.#x.body !== null
    const safe = replayable && (f.notSent || IDEMPOTENT.has(ctx.upstreamMethod))
    if (safe && this.#attempt < service.retries && !ctx.res.destroyed && service.retryBudget.tryRetry()) {
      this.#attempt++
      this.#head = null
      this.#controller = null
      this.#lastFailure = new GatewayError(f.code, undefined, { cause: err })
      // its place is given back already: the pause must not give it back twice
      this.#target = null
      // a jittered, growing pause: retries of many requests that failed together spread out
      this.#backoff = setTimeout(() => {
        this.#backoff = null
        if (!this.#done) this.#dispatch(target ?? undefined)
      }, backoffMs(this.#attempt))
      return
    }
    this.#done = true
    if (this.#guard !== null && !ctx.req.complete) {
      closeAfter(ctx.res, true)
      this.#discardClientBody()
    }
    sendError(ctx, chain, new GatewayError(f.code, undefined, { cause: err }))
  }
}

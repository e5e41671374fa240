import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { RequestContext } from '../core/context.js'

/**
 * Where the response of a background continuation goes (see `BackgroundContinuation`): the part
 * of `ServerResponse` the data plane uses, every byte dropped as it comes, and `'close'` once,
 * after the response ended or was cut short, as a real response closes.
 */
export class DiscardedResponse extends EventEmitter {
  statusCode = 200
  headersSent = false
  destroyed = false
  writableEnded = false
  shouldKeepAlive = false
  #closed = false

  writeHead(status: number): this {
    this.statusCode = status
    this.headersSent = true
    return this
  }

  /** always ready for more: nothing is kept, so there is no backpressure */
  write(_chunk: unknown): boolean {
    return true
  }

  end(_chunk?: unknown): this {
    if (this.writableEnded) return this
    this.writableEnded = true
    this.headersSent = true
    this.#close()
    return this
  }

  destroy(): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.#close()
    return this
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    // after the caller's own end-of-response work (body taps run before end), as a socket would
    queueMicrotask(() => this.emit('close'))
  }
}

/**
 * The copy of an answered request that a background continuation runs (a new id, its own
 * response going nowhere): what routing, authentication and the plugins before `from` settled
 * is carried over as is; the edit lists and plugin state are copied so the copy's plugins cannot
 * change the original's (its log phase may still be running on them).
 */
export function backgroundCopy(ctx: RequestContext, method: string | undefined): RequestContext {
  const copy = new RequestContext(
    ctx.req,
    new DiscardedResponse() as unknown as ServerResponse,
    randomUUID(),
    performance.now(),
    method ?? ctx.method,
  )
  copy.background = true
  copy.upstreamMethod = method ?? ctx.upstreamMethod
  copyRouting(ctx, copy)
  copy.consumer = ctx.consumer
  copy.credential = ctx.credential
  copy.anonymous = ctx.anonymous
  copy.upstreamBody = ctx.upstreamBody
  copy.maxBody = ctx.maxBody
  copy.upstreamHeaderEdits = ctx.upstreamHeaderEdits === null ? null : new Map(ctx.upstreamHeaderEdits)
  copy.upstreamHeaderNames = ctx.upstreamHeaderNames === null ? null : new Map(ctx.upstreamHeaderNames)
  copy.responseHeaders = ctx.responseHeaders === null ? null : [...ctx.responseHeaders]
  copy.slots = ctx.slots === null ? null : ctx.slots.slice()
  return copy
}

/** What the prepare and routing steps settled: host, path, query, client, route, service, upstream path. */
function copyRouting(from: RequestContext, to: RequestContext): void {
  to.host = from.host
  to.path = from.path
  to.query = from.query
  to.clientIp = from.clientIp
  to.route = from.route
  to.service = from.service
  to.captures = from.captures
  to.positionalCaptures = from.positionalCaptures
  to.upstreamPath = from.upstreamPath
  to.upstreamQuery = from.upstreamQuery
}

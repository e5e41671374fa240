import type { OutgoingHttpHeaders } from 'node:http'
import type { RequestContext } from '../core/context.js'
import { errorBody, GatewayError } from '../core/errors.js'
import type { Reply, ResponseHead } from '../core/plugin.js'
import { type Chain, runBody, runResponse } from './chain.js'
import { H2_FORBIDDEN } from './headers.js'
import { pushLatency } from './latency.js'

/** Response header carrying the request id (the id is also in every error body). */
export const REQUEST_ID_HEADER = 'x-request-id'

/**
 * Writes the status line and headers, adding what plugins queued (`ctx.responseHeaders`), the
 * request id and Kong's latency headers (latency.ts; `standIn`: a reply that stands in for the
 * upstream's, a cache hit). Accepts the flat list of the fast path or the object of the
 * response phase.
 */
export function writeHead(
  ctx: RequestContext,
  status: number,
  headers: string[] | Record<string, string | string[]>,
  standIn = false,
): void {
  const res = ctx.res
  if (res.headersSent || res.destroyed) return
  ctx.status = status
  const extra = ctx.responseHeaders
  if (ctx.req.httpVersionMajor === 2) return writeHeadH2(ctx, status, headers, standIn)
  if (Array.isArray(headers)) {
    if (extra !== null) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!)
    headers.push(REQUEST_ID_HEADER, ctx.id)
    if (ctx.latencyHeaders !== 0) pushLatency(ctx, ctx.latencyHeaders, standIn, headers)
    res.writeHead(status, headers)
    return
  }
  const obj = headers as OutgoingHttpHeaders
  if (extra !== null) {
    for (let i = 0; i < extra.length; i += 2) {
      const k = extra[i]!.toLowerCase()
      const prev = obj[k]
      obj[k] = prev === undefined ? extra[i + 1]! : ([] as string[]).concat(prev as string, extra[i + 1]!)
    }
  }
  obj[REQUEST_ID_HEADER] = ctx.id
  if (ctx.latencyHeaders !== 0) {
    const latency: string[] = []
    pushLatency(ctx, ctx.latencyHeaders, standIn, latency)
    for (let i = 0; i < latency.length; i += 2) obj[latency[i]!.toLowerCase()] = latency[i + 1]!
  }
  res.writeHead(status, obj)
}

/**
 * The same head on an HTTP/2 stream: every header as an object (node:http2's compatibility
 * response), minus the connection-specific ones HTTP/2 forbids (a 426's `Connection: Upgrade`,
 * a plugin's `Connection: close`).
 */
function writeHeadH2(
  ctx: RequestContext,
  status: number,
  headers: string[] | Record<string, string | string[]>,
  standIn: boolean,
): void {
  const obj: Record<string, string | string[]> = {}
  const add = (name: string, value: string | string[]): void => {
    const k = name.toLowerCase()
    if (H2_FORBIDDEN.has(k)) return
    const prev = obj[k]
    obj[k] = prev === undefined ? value : ([] as string[]).concat(prev, value)
  }
  if (Array.isArray(headers)) for (let i = 0; i < headers.length; i += 2) add(headers[i]!, headers[i + 1]!)
  else for (const k of Object.keys(headers)) add(k, headers[k]!)
  const extra = ctx.responseHeaders
  if (extra !== null) for (let i = 0; i < extra.length; i += 2) add(extra[i]!, extra[i + 1]!)
  obj[REQUEST_ID_HEADER] = ctx.id
  if (ctx.latencyHeaders !== 0) {
    const latency: string[] = []
    pushLatency(ctx, ctx.latencyHeaders, standIn, latency)
    for (let i = 0; i < latency.length; i += 2) obj[latency[i]!.toLowerCase()] = latency[i + 1]!
  }
  ctx.res.writeHead(status, obj)
}

function bodyOf(reply: Reply): { data: Buffer | string; type: string | null } {
  const b = reply.body
  if (b === undefined) return { data: '', type: null }
  if (typeof b === 'string') return { data: b, type: 'text/plain; charset=utf-8' }
  if (Buffer.isBuffer(b)) return { data: b, type: 'application/octet-stream' }
  return { data: JSON.stringify(b), type: 'application/json; charset=utf-8' }
}

/**
 * Answers with a plugin's (or the gateway's) reply. The response phase still runs, as Kong runs
 * header filters on `kong.response.exit`: a rate-limit header or a CORS header lands on a 401
 * as well as on a proxied 200.
 */
export function sendReply(ctx: RequestContext, chain: Chain, reply: Reply): void {
  const { data, type } = bodyOf(reply)
  const headers: Record<string, string | string[]> = { ...reply.headers }
  // 204 and 304 carry no body and no Content-Length (nginx's framing under Kong's exit)
  const bodiless = reply.status === 204 || reply.status === 304
  if (type !== null && headers['content-type'] === undefined && !bodiless) headers['content-type'] = type
  if (!bodiless) headers['content-length'] = String(Buffer.byteLength(data))
  const head: ResponseHead = { status: reply.status, headers, buffer: false, taps: null, fromPlugin: true }
  const finish = (): void => {
    let out: Buffer | string = data
    if (head.buffer) {
      // body hooks (response-transformer) see plugin replies too
      const buf = runBody(chain, ctx, head, Buffer.isBuffer(data) ? data : Buffer.from(data))
      out = buf
      if (!bodiless) head.headers['content-length'] = String(buf.length)
    }
    writeHead(ctx, head.status, head.headers, reply.proxied === true)
    if (head.taps) {
      const b = Buffer.isBuffer(out) ? out : Buffer.from(out)
      for (const t of head.taps) {
        t.chunk(b)
        t.end()
      }
    }
    ctx.res.end(ctx.method === 'HEAD' || bodiless ? undefined : out)
  }
  if (chain.response.length === 0) return finish()
  const r = runResponse(chain, ctx, head)
  if (r === undefined) return finish()
  r.then(finish, () => finish())
}

/** Answers a gateway error: JSON `{"message", "request_id"}` with the code's status. */
export function sendError(ctx: RequestContext, chain: Chain, err: GatewayError): void {
  if (ctx.res.headersSent) {
    ctx.res.destroy()
    return
  }
  sendReply(ctx, chain, {
    status: err.status,
    headers: { ...err.headers, 'content-type': 'application/json; charset=utf-8' },
    body: Buffer.from(errorBody(err.message, ctx.id)),
  })
}

/** Same as {@link sendError} for a thrown value of unknown type. */
export function sendFailure(ctx: RequestContext, chain: Chain, err: unknown): void {
  sendError(
    ctx,
    chain,
    err instanceof GatewayError ? err : new GatewayError('INTERNAL', undefined, { cause: err }),
  )
}

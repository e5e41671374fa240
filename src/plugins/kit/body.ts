import type { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'

/**
 * Whether the request carries a body: a positive Content-Length or any Transfer-Encoding. The
 * one place plugins decide it (the data plane's own framing check has already refused a request
 * whose framing is ambiguous, so the headers can be trusted here).
 *
 * @example
 *   if (!hasRequestBody(ctx)) return lookup(ctx)
 */
export function hasRequestBody(ctx: RequestContext): boolean {
  const h = ctx.req.headers
  if (h['transfer-encoding'] !== undefined) return true
  const cl = h['content-length']
  return cl !== undefined && cl !== '0'
}

/**
 * The client's body, read once per request (Kong's `kong.request.get_raw_body`). The first
 * plugin that asks reads it, at most `ctx.maxBody` bytes (the node's limit, or a lower one set
 * by request-size-limiting): past the limit it stops reading and rejects with 413, keep-alive
 * off (the rest is never read). The bytes are kept as `ctx.upstreamBody`, which is what the
 * proxy sends (the client's stream is consumed), with the Content-Length they now have; every
 * later plugin gets the same buffer, or the body an earlier plugin put in its place. A client
 * that goes away rejects with a 400 nobody will see. A request without a body reads as empty.
 *
 * @example
 *   const raw = await readBody(ctx)   // Buffer, '' when the request has no body
 */
export function readBody(ctx: RequestContext): Promise<Buffer> {
  if (ctx.upstreamBody !== null) return Promise.resolve(ctx.upstreamBody)
  if (!hasRequestBody(ctx)) return Promise.resolve(EMPTY)
  return collect(ctx).then((buf) => {
    ctx.upstreamBody = buf
    ctx.setUpstreamHeader('content-length', String(buf.length))
    return buf
  })
}

/**
 * The client's body when it is at most `bound` bytes (as {@link readBody}: read once, kept as
 * `ctx.upstreamBody`), or null when it is longer: then only `bound` bytes and a little were
 * read, and they are put back in front of the rest, so the proxy still sends the whole body
 * (streamed, or read by the route's request buffering). For a body whose length is not known
 * in advance (chunked) that a plugin wants only when it is small, such as a cache key.
 *
 * @example
 *   const body = await readBodyWithin(ctx, 64 * 1024) // null: longer, go on without it
 */
export function readBodyWithin(ctx: RequestContext, bound: number): Promise<Buffer | null> {
  if (ctx.upstreamBody !== null)
    return Promise.resolve(ctx.upstreamBody.length <= bound ? ctx.upstreamBody : null)
  if (!hasRequestBody(ctx)) return Promise.resolve(EMPTY)
  return collect(ctx, bound).then((buf) => {
    if (buf === null) return null
    ctx.upstreamBody = buf
    ctx.setUpstreamHeader('content-length', String(buf.length))
    return buf
  })
}

const EMPTY = Buffer.alloc(0)

function collect(ctx: RequestContext): Promise<Buffer>
function collect(ctx: RequestContext, bound: number): Promise<Buffer | null>
function collect(ctx: RequestContext, bound = Number.POSITIVE_INFINITY): Promise<Buffer | null> {
  const req = ctx.req
  const limit = ctx.maxBody
  return new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (limit > 0 && size > limit) {
        cleanup()
        req.pause()
        ctx.res.shouldKeepAlive = false
        reject(new GatewayError('BODY_TOO_LARGE'))
        return
      }
      chunks.push(chunk)
      if (size > bound) {
        // longer than the caller wants: stop, and give the bytes back for whoever reads next
        cleanup()
        req.pause()
        req.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
        resolve(null)
      }
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onError = (err: unknown): void => {
      cleanup()
      reject(
        new GatewayError('BAD_REQUEST', 'Bad request: the request body could not be read', { cause: err }),
      )
    }
    const onClose = (): void => {
      if (!req.complete) onError(new Error('client closed the connection'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
    // an earlier reader may have paused it (readBodyWithin puts a long body back paused)
    req.resume()
  })
}

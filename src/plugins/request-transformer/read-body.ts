import type { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'

/** The request carries a body: a positive Content-Length or any Transfer-Encoding. */
export function hasRequestBody(ctx: RequestContext): boolean {
  const h = ctx.req.headers
  if (h['transfer-encoding'] !== undefined) return true
  const cl = h['content-length']
  return cl !== undefined && cl !== '0'
}

/**
 * Reads the whole client body, at most `ctx.maxBody` bytes (the node's limit, or a lower one
 * set by request-size-limiting). Past the limit it stops reading and rejects with 413, with
 * keep-alive off (the rest of the body is never read). A client that goes away rejects with a
 * 400 nobody will see.
 *
 * @example
 *   const raw = hasRequestBody(ctx) ? await readBody(ctx) : Buffer.alloc(0)
 */
export function readBody(ctx: RequestContext): Promise<Buffer> {
  const req = ctx.req
  const limit = ctx.maxBody
  return new Promise<Buffer>((resolve, reject) => {
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
  })
}

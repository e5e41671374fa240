import type { RequestContext } from '../../core/context.js'
import { queryParam, withoutParams } from '../auth-common/query.js'
import { boundaryOf, multipartField, withoutPart } from './multipart.js'

/** Largest body key-auth reads to look for a key (`key_in_body`); larger ones are left alone. */
export const BODY_LIMIT = 1024 * 1024

/** A request body key-auth can look into: a JSON object, a form-encoded string or multipart. */
export type ParsedBody =
  | { kind: 'json'; value: Record<string, unknown> }
  | { kind: 'form'; raw: string }
  | { kind: 'multipart'; buf: Buffer; boundary: string }

/** The body's media type when key-auth can parse it (Kong's `get_body`: JSON, forms, multipart). */
export function bodyKind(ctx: RequestContext): 'json' | 'form' | 'multipart' | null {
  const type = ctx.req.headers['content-type']
  if (type === undefined) return null
  const t = type.toLowerCase()
  if (t.startsWith('application/json') || /^application\/[^;]*\+json/.test(t)) return 'json'
  if (t.startsWith('application/x-www-form-urlencoded')) return 'form'
  if (t.startsWith('multipart/form-data') && boundaryOf(type) !== undefined) return 'multipart'
  return null
}

/** Thrown when a body without Content-Length grows past {@link BODY_LIMIT} while being read. */
export class BodyTooLarge extends Error {}

/**
 * Reads and parses the request body once. The client's stream is consumed, so the bytes become
 * `ctx.upstreamBody` (what the proxy sends). Null when the body cannot hold a key: another
 * media type, a declared length over the limit (streamed upstream untouched), or unparsable.
 *
 * @example
 *   const body = await readBody(ctx) // → { kind: 'json', value: { apikey: 'k1' } }
 */
export async function readBody(ctx: RequestContext): Promise<ParsedBody | null> {
  const kind = bodyKind(ctx)
  if (kind === null) return null
  let buf = ctx.upstreamBody
  if (buf === null) {
    const declared = Number(ctx.req.headers['content-length'] ?? Number.NaN)
    if (declared > BODY_LIMIT) return null
    buf = await collect(ctx)
    ctx.upstreamBody = buf
    ctx.setUpstreamHeader('content-length', String(buf.length))
  }
  if (buf.length === 0) return null
  if (kind === 'form') return { kind, raw: buf.toString('utf8') }
  if (kind === 'multipart') {
    return { kind, buf, boundary: boundaryOf(String(ctx.req.headers['content-type'])) as string }
  }
  try {
    const value: unknown = JSON.parse(buf.toString('utf8'))
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
    return { kind, value: value as Record<string, unknown> }
  } catch {
    return null
  }
}

function collect(ctx: RequestContext): Promise<Buffer> {
  const req = ctx.req
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (c: Buffer) => {
      size += c.length
      if (size > BODY_LIMIT) {
        cleanup()
        reject(new BodyTooLarge())
        return
      }
      chunks.push(c)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onError)
  })
}

/** A field of the body, shaped as Kong sees it: a string, several values, or anything else. */
export function bodyField(body: ParsedBody, name: string): unknown {
  if (body.kind === 'multipart') return multipartField(body.buf, body.boundary, name)
  return body.kind === 'form' ? queryParam(body.raw, name) : body.value[name]
}

/**
 * Removes a field from the body sent upstream (hide_credentials), re-encoding it in its own
 * media type and fixing Content-Length.
 *
 * @example
 *   stripBodyField(ctx, body, 'apikey')
 */
export function stripBodyField(ctx: RequestContext, body: ParsedBody, name: string): void {
  let out: string | Buffer
  if (body.kind === 'multipart') {
    out = withoutPart(body.buf, body.boundary, name)
    if (out === body.buf) return
  } else if (body.kind === 'form') {
    out = withoutParams(body.raw, new Set([name]))
    if (out === body.raw) return
  } else {
    if (!(name in body.value)) return
    delete body.value[name]
    out = JSON.stringify(body.value)
  }
  const buf = typeof out === 'string' ? Buffer.from(out) : out
  ctx.upstreamBody = buf
  ctx.setUpstreamHeader('content-length', String(buf.length))
}

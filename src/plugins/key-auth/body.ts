import type { RequestContext } from '../../core/context.js'
import { queryParam, withoutParams } from '../kit/auth/query.js'
import { readBody } from '../kit/body.js'

/** Largest declared body key-auth reads to look for a key (`key_in_body`); larger ones are left alone. */
export const BODY_LIMIT = 1024 * 1024

/** A request body key-auth can look into: a JSON object or a form-encoded string. */
export type ParsedBody = { kind: 'json'; value: Record<string, unknown> } | { kind: 'form'; raw: string }

/** The body's media type when key-auth can parse it (Kong's `get_body`: JSON and forms). */
export function bodyKind(ctx: RequestContext): 'json' | 'form' | null {
  const type = ctx.req.headers['content-type']
  if (type === undefined) return null
  const t = type.toLowerCase()
  if (t.startsWith('application/json') || /^application\/[^;]*\+json/.test(t)) return 'json'
  if (t.startsWith('application/x-www-form-urlencoded')) return 'form'
  return null
}

/**
 * The request body parsed as Kong's `get_body` sees it, from the kit's one reader (read once,
 * `ctx.maxBody` applied there). Null when the body cannot hold a key: another media type, a
 * declared length over {@link BODY_LIMIT} (streamed upstream untouched), or unparsable.
 *
 * @example
 *   const body = await parsedBody(ctx) // → { kind: 'json', value: { apikey: 'k1' } }
 */
export async function parsedBody(ctx: RequestContext): Promise<ParsedBody | null> {
  const kind = bodyKind(ctx)
  if (kind === null) return null
  if (ctx.upstreamBody === null && Number(ctx.req.headers['content-length'] ?? Number.NaN) > BODY_LIMIT)
    return null
  const buf = await readBody(ctx)
  if (buf.length === 0) return null
  if (kind === 'form') return { kind, raw: buf.toString('utf8') }
  try {
    const value: unknown = JSON.parse(buf.toString('utf8'))
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
    return { kind, value: value as Record<string, unknown> }
  } catch {
    return null
  }
}

/** A field of the body, shaped as Kong sees it: a string, several values, or anything else. */
export function bodyField(body: ParsedBody, name: string): unknown {
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
  let out: string
  if (body.kind === 'form') {
    out = withoutParams(body.raw, new Set([name]))
    if (out === body.raw) return
  } else {
    if (!(name in body.value)) return
    delete body.value[name]
    out = JSON.stringify(body.value)
  }
  const buf = Buffer.from(out)
  ctx.upstreamBody = buf
  ctx.setUpstreamHeader('content-length', String(buf.length))
}

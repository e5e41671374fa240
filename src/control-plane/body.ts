import type { IncomingMessage } from 'node:http'
import { ApiError, badRequest, schemaViolation } from './errors.js'
import { assertSafeKeys, decodeForm, ForbiddenKeyError } from './form.js'
import { parseMultipart } from './multipart.js'

/** A request body, parsed by content type. */
export interface ParsedBody {
  /** `form`: values are still strings, inferred later by the schema of what is written */
  kind: 'json' | 'form' | 'none' | 'other'
  value: Record<string, unknown>
  raw: Buffer
  contentType: string
}

export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, { message: `Request size limit exceeded: the body may be at most ${limit} bytes` })

/**
 * Reads the whole body, refusing (413) a declared or actual size above `limit` as soon as it is
 * known, without buffering the excess.
 *
 * @example
 *   const raw = await readBody(req, 1024 * 1024)
 *   if (raw instanceof ApiError) return send(raw)
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | ApiError> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.resolve(tooLarge(limit))
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (value: Buffer | ApiError) => {
      if (done) return
      done = true
      req.off('data', onData)
      resolve(value)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.pause()
        finish(tooLarge(limit))
      } else chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => finish(Buffer.concat(chunks, size)))
    req.once('error', () => finish(badRequest('the request body could not be read')))
  })
}

function forbidden(err: ForbiddenKeyError): ApiError {
  return schemaViolation([{ path: '', message: err.message }])
}

/**
 * Parses a body as Kong's Admin API does: JSON (`Cannot parse JSON body` when malformed),
 * form-encoded and multipart fields decoded into nested objects, anything else kept raw (for
 * `POST /config` with a YAML body). Keys that could reach a prototype are refused.
 *
 * @example
 *   parseBody(Buffer.from('paths[]=/a&name=r'), 'application/x-www-form-urlencoded')
 *   // → { kind: 'form', value: { paths: ['/a'], name: 'r' }, … }
 */
export function parseBody(raw: Buffer, contentType: string): ParsedBody | ApiError {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  const parsed = (kind: ParsedBody['kind'], value: Record<string, unknown>): ParsedBody => ({
    kind,
    value,
    raw,
    contentType,
  })
  const json = type === 'application/json' || type.endsWith('+json')
  // Kong: a JSON content type promises a JSON body, so an empty one cannot be parsed either
  if (raw.length === 0) return json ? badRequest('Cannot parse JSON body') : parsed('none', {})
  try {
    if (json) {
      let value: unknown
      try {
        value = JSON.parse(raw.toString('utf8'))
      } catch {
        return badRequest('Cannot parse JSON body')
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return badRequest('Cannot parse JSON body: expected a JSON object')
      }
      assertSafeKeys(value)
      return parsed('json', value as Record<string, unknown>)
    }
    if (type === 'application/x-www-form-urlencoded') {
      return parsed('form', decodeForm(new URLSearchParams(raw.toString('utf8'))))
    }
    if (type === 'multipart/form-data') {
      const pairs = parseMultipart(raw, contentType)
      if (pairs === null) return badRequest('Cannot parse multipart body')
      return parsed('form', decodeForm(pairs))
    }
  } catch (err) {
    if (err instanceof ForbiddenKeyError) return forbidden(err)
    throw err
  }
  return parsed('other', {})
}

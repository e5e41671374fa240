/**
 * Request body reading for the demo services: bounded (413 past {@link MAX_BODY_BYTES}) and
 * tolerant of how people actually send bodies from a shell, where `curl -d '{"a":1}'` labels
 * JSON as form-encoded.
 */
import type { IncomingMessage } from 'node:http'
import { HttpError, MAX_BODY_BYTES } from './http.js'

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `request body exceeds ${limit} bytes`)
}

/**
 * Reads the whole request body, refusing more than `limit` bytes with a 413 {@link HttpError}.
 * A declared Content-Length over the limit is refused before reading anything.
 *
 * @example
 *   const raw = await readBody(req)            // Buffer, at most 1 MiB
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit))
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        // Stop buffering but do not destroy the request: destroying it would also destroy the
        // socket before the 413 could be written. The reply closes the connection instead.
        req.off('data', onData)
        req.resume()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks, size)))
    req.once('error', reject)
  })
}

/**
 * Parses a body as a JSON object or, for form-encoded bodies that do not look like JSON, as
 * `key=value` pairs. An empty body is `{}`. Anything else (bad JSON, a JSON array or scalar)
 * is a 400 {@link HttpError}.
 *
 * @example
 *   parseObject(Buffer.from('username=alice&password=x'), 'application/x-www-form-urlencoded')
 *   // → { username: 'alice', password: 'x' }
 */
export function parseObject(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8').trim()
  if (text === '') return {}
  const isForm = (contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
  if (isForm && !text.startsWith('{')) return Object.fromEntries(new URLSearchParams(text))
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_json', 'request body must be a JSON object')
  }
  return value as Record<string, unknown>
}

/**
 * {@link readBody} then {@link parseObject}, using the request's Content-Type.
 *
 * @example
 *   const { username, password } = await readObject(req)
 */
export async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  return parseObject(await readBody(req), req.headers['content-type'])
}

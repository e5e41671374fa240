import { render, type TemplateEnv } from './template.js'
import type { Ops } from './transform.js'

/** One part of a multipart/form-data body: its bytes between the delimiters, and its field name. */
interface Part {
  name: string | null
  raw: Buffer
}

const NAME = /;\s*name=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i

/** The `boundary` parameter of a multipart Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m === null ? null : (m[1] ?? m[2]!)
}

function partName(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1')
  for (const line of head.split('\r\n')) {
    if (!/^content-disposition:/i.test(line)) continue
    const m = NAME.exec(line)
    if (m !== null) return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!
  }
  return null
}

/** Splits a body into its parts; null when it is not well-formed for this boundary. */
function parse(body: Buffer, boundary: string): Part[] | null {
  const parts: Part[] = []
  if (body.length === 0) return parts
  const delim = Buffer.from(`--${boundary}`)
  const next = Buffer.from(`\r\n--${boundary}`)
  let pos = body.indexOf(delim)
  if (pos === -1) return null
  for (;;) {
    pos += delim.length
    if (body[pos] === 45 && body[pos + 1] === 45) return parts // closing delimiter
    if (body[pos] !== 13 || body[pos + 1] !== 10) return null
    pos += 2
    const end = body.indexOf(next, pos)
    if (end === -1) return null
    const raw = body.subarray(pos, end)
    parts.push({ name: partName(raw), raw })
    pos = end + 2
  }
}

function simplePart(name: string, value: string): Part {
  const quoted = name.replace(/["\\]/g, '\\$&')
  return { name, raw: Buffer.from(`Content-Disposition: form-data; name="${quoted}"\r\n\r\n${value}`) }
}

/**
 * Kong's `transform_multipart_body` (lua-multipart): rename, remove, replace (the new part goes
 * last), add; Kong has no append for multipart. Untouched parts (files included) keep their
 * bytes. Returns the new body, or null when nothing changed or the body is not well-formed.
 *
 * @example
 *   transformMultipartBody(body, ops, env, 'XyZ')   // → Buffer | null
 */
export function transformMultipartBody(
  raw: Buffer,
  ops: Ops,
  env: TemplateEnv,
  boundary: string,
): Buffer | null {
  const parts = parse(raw, boundary)
  if (parts === null) return null
  const index = (name: string) => parts.findIndex((p) => p.name === name)
  const removeAll = (name: string) => {
    for (let i = parts.length - 1; i >= 0; i--) if (parts[i]!.name === name) parts.splice(i, 1)
  }
  const setSimple = (name: string, value: string) => {
    const i = index(name)
    if (i === -1) parts.push(simplePart(name, value))
    else parts[i] = simplePart(name, value)
  }
  const partValue = (p: Part): string => {
    const end = p.raw.indexOf('\r\n\r\n')
    return end === -1 ? '' : p.raw.subarray(end + 4).toString('utf8')
  }
  let changed = false
  if (raw.length > 0) {
    for (const [from, to] of ops.rename) {
      const target = render(to, env)
      const i = index(from)
      if (i === -1 || target === from) continue
      setSimple(target, partValue(parts[i]!))
      removeAll(from)
      changed = true
    }
    for (const name of ops.remove) {
      removeAll(name)
      changed = true
    }
    for (const [name, value] of ops.replace) {
      if (index(name) === -1) continue
      removeAll(name)
      setSimple(name, render(value, env))
      changed = true
    }
  }
  for (const [name, value] of ops.add) {
    if (index(name) !== -1) continue
    setSimple(name, render(value, env))
    changed = true
  }
  if (!changed) return null
  const chunks: Buffer[] = []
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\n`), p.raw, Buffer.from('\r\n'))
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}

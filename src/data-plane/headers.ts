import type { RequestContext } from '../core/context.js'
import { childTraceparent } from '../observability/trace.js'

/**
 * RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard ones proxies also drop, and
 * `Expect`: the gateway answers `100-continue` itself before it reads the body (as nginx does),
 * so the upstream gets a plain request (undici refuses to send `Expect` at all).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'expect',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // the gateway answers `Expect: 100-continue` itself (data-plane/server.ts); passed on, the
  // upstream's own 100 would reach undici, which refuses it as a response
  'expect',
])

/** Headers Portico sets itself upstream; client copies are dropped (X-Forwarded-For is appended). */
const SET_BY_GATEWAY = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-real-ip',
  'x-request-id',
  'traceparent',
])

/**
 * Connection-specific headers HTTP/2 forbids in a response (RFC 9113 §8.2.2): node:http2 throws
 * on them, so an answer on an HTTP/2 stream goes out without them.
 */
export const H2_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
])

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName)
}

/** Lower-case tokens of a `Connection` header value: the extra headers it declares hop-by-hop. */
export function connectionTokens(value: string | undefined): Set<string> | null {
  if (value === undefined) return null
  // the usual values name no extra header: skip the split
  const v = value.length <= 10 ? value.toLowerCase() : ''
  if (v === 'keep-alive' || v === 'close' || v === 'upgrade') return null
  let out: Set<string> | null = null
  for (const t of value.split(',')) {
    const n = t.trim().toLowerCase()
    if (n === '' || n === 'close' || n === 'keep-alive' || n === 'upgrade') continue
    ;(out ??= new Set()).add(n)
  }
  return out
}

export interface ForwardInfo {
  /** Host header value for the upstream */
  host: string
  proto: string
  port: string
  /** client-facing host (X-Forwarded-Host) */
  forwardedHost: string
  /** the peer is a trusted proxy: its X-Forwarded-* are kept */
  trusted: boolean
}

/**
 * The upstream request's headers as a flat `[name, value, …]` list built in one pass over the
 * client's raw headers (undici takes the flat form as is: no object built per request).
 * Hop-by-hop headers and those named in `Connection` go first, then Portico's own
 * X-Forwarded-*, X-Real-IP and request id, then the plugins' edits.
 */
export function upstreamHeaders(
  ctx: RequestContext,
  fwd: ForwardInfo,
  dropped: Set<string> | null,
): string[] {
  const raw = ctx.req.rawHeaders
  const edits = ctx.upstreamHeaderEdits
  const out: string[] = []
  let xff: string | undefined
  let xfProto: string | undefined
  let xfHost: string | undefined
  let xfPort: string | undefined
  let traceparent: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    // HTTP/2 pseudo-headers (`:method`, `:authority`…): the upstream request is HTTP/1.1
    if (name.charCodeAt(0) === 58 /* : */) continue
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || dropped?.has(lower)) continue
    if (SET_BY_GATEWAY.has(lower)) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`
      else if (lower === 'traceparent') traceparent = raw[i + 1]
      else if (fwd.trusted) {
        if (lower === 'x-forwarded-proto') xfProto = raw[i + 1]
        else if (lower === 'x-forwarded-host') xfHost = raw[i + 1]
        else if (lower === 'x-forwarded-port') xfPort = raw[i + 1]
      }
      continue
    }
    if (edits?.has(lower)) continue
    out.push(name, raw[i + 1]!)
  }
  const peer = ctx.req.socket.remoteAddress ?? ''
  // a plugin may set the upstream Host (request-transformer's `replace.headers: host:…`)
  const hostEdit = edits?.get('host')
  out.push(
    'host',
    typeof hostEdit === 'string' ? hostEdit : fwd.host,
    'x-forwarded-for',
    xff === undefined ? peer : `${xff}, ${peer}`,
    'x-forwarded-proto',
    xfProto ?? fwd.proto,
    'x-forwarded-host',
    xfHost ?? fwd.forwardedHost,
    'x-forwarded-port',
    xfPort ?? fwd.port,
    'x-forwarded-path',
    ctx.path,
    'x-real-ip',
    ctx.clientIp,
    'x-request-id',
    ctx.id,
  )
  // W3C trace context: this hop's span becomes the upstream's parent (one span per request:
  // a retry reuses it); a plugin that sets traceparent itself wins
  if (edits === null || !edits.has('traceparent'))
    out.push('traceparent', ctx.traceparent || (ctx.traceparent = childTraceparent(traceparent)))
  if (edits !== null) {
    const spelled = ctx.upstreamHeaderNames
    for (const [lower, value] of edits) {
      // the gateway's own X-Forwarded-*, X-Real-IP and request id are never doubled (as in Kong,
      // where a plugin cannot overwrite them); Host was taken above
      if (value === null || SET_BY_GATEWAY.has(lower)) continue
      // the name as the plugin wrote it (undici sends the flat list's names as they are)
      const name = spelled === null ? lower : (spelled.get(lower) ?? lower)
      if (Array.isArray(value)) for (const v of value) out.push(name, v)
      else out.push(name, value)
    }
  }
  return out
}

/**
 * The upstream response's headers as a flat list of strings, hop-by-hop ones removed (and those
 * the upstream's own `Connection` header names).
 */
export function downstreamHeaders(raw: Buffer[]): string[] {
  const out: string[] = []
  let connection: Set<string> | null = null
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1')
    const lower = name.toLowerCase()
    if (lower === 'connection') connection = connectionTokens(raw[i + 1]!.toString('latin1'))
    if (HOP_BY_HOP.has(lower)) continue
    out.push(name, raw[i + 1]!.toString('latin1'))
  }
  if (connection === null) return out
  const kept: string[] = []
  for (let i = 0; i < out.length; i += 2) {
    if (!connection.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!)
  }
  return kept
}

/** Flat list → object with lower-case names, for the response phase. */
export function toHeaderObject(flat: string[]): Record<string, string | string[]> {
  const o: Record<string, string | string[]> = {}
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase()
    const v = flat[i + 1]!
    const prev = o[k]
    if (prev === undefined) o[k] = v
    else if (Array.isArray(prev)) prev.push(v)
    else o[k] = [prev, v]
  }
  return o
}

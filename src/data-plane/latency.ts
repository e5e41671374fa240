import type { RequestContext } from '../core/context.js'

// Kong's latency headers (kong.conf `headers`, `latency_tokens` in its default): on a proxied
// response `X-Kong-Upstream-Latency` (ms from the upstream request to its response headers)
// and `X-Kong-Proxy-Latency` (ms from the client's request to the upstream request); on an
// answer the gateway made itself (a plugin's reply, an error before any upstream request)
// `X-Kong-Response-Latency` (ms from the request to the answer). A cache hit stands in for the
// upstream (Kong's proxy-cache marks it proxied): the first two, with no upstream wait. Read
// from the timestamps the request already took; at most one clock read per answer.

/** One bit per header, as the node's `headers` setting enables them. */
export const PROXY_LATENCY = 1
export const UPSTREAM_LATENCY = 2
export const RESPONSE_LATENCY = 4

const TOKENS: Record<string, number> = {
  latency_tokens: PROXY_LATENCY | UPSTREAM_LATENCY | RESPONSE_LATENCY,
  'x-kong-proxy-latency': PROXY_LATENCY,
  'x-kong-upstream-latency': UPSTREAM_LATENCY,
  'x-kong-response-latency': RESPONSE_LATENCY,
}

/**
 * Kong's `headers` setting (`PORTICO_HEADERS`): a comma-separated list of `latency_tokens` and
 * single latency header names, or `off`; the default is Kong's `latency_tokens`. Kong's
 * `server_tokens` (`Server`, `Via`) and its other `X-Kong-*` headers are refused: Portico does
 * not send them, and a setting that says otherwise would be a lie.
 *
 * @example
 *   parseHeadersSetting('X-Kong-Upstream-Latency, X-Kong-Proxy-Latency') // → 3
 */
export function parseHeadersSetting(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return TOKENS.latency_tokens!
  let bits = 0
  for (const raw of text.split(',')) {
    const token = raw.trim().toLowerCase()
    if (token === 'off') continue
    const bit = TOKENS[token]
    if (bit === undefined)
      throw new Error(
        `headers: '${raw.trim()}' is not sent by Portico; expected off, latency_tokens, X-Kong-Proxy-Latency, X-Kong-Upstream-Latency or X-Kong-Response-Latency`,
      )
    bits |= bit
  }
  return bits
}

/**
 * Appends the enabled latency headers of this answer to a flat `[name, value, …]` list.
 * `standIn`: a plugin's reply that stands in for the upstream's (a cache hit).
 */
export function pushLatency(ctx: RequestContext, bits: number, standIn: boolean, out: string[]): void {
  const sent = ctx.upstreamStart
  if (!Number.isNaN(sent)) {
    // proxied: the upstream request was sent (its answer, or an error about it, follows)
    const at = ctx.upstreamHeadersAt
    const waited = (Number.isNaN(at) ? performance.now() : at) - sent
    if (bits & UPSTREAM_LATENCY) out.push('X-Kong-Upstream-Latency', String(Math.round(waited)))
    if (bits & PROXY_LATENCY) out.push('X-Kong-Proxy-Latency', String(Math.round(sent - ctx.start)))
    return
  }
  const elapsed = String(Math.round(performance.now() - ctx.start))
  if (standIn) {
    if (bits & UPSTREAM_LATENCY) out.push('X-Kong-Upstream-Latency', '0')
    if (bits & PROXY_LATENCY) out.push('X-Kong-Proxy-Latency', elapsed)
  } else if (bits & RESPONSE_LATENCY) out.push('X-Kong-Response-Latency', elapsed)
}

/**
 * What proxy-cache stores: responses, and Vary indexes (a base key whose responses vary on
 * request headers points at its variants). The memory tier keeps these objects as they are;
 * the Redis tier keeps them encoded as `[u32 meta length][meta JSON][body]`.
 */

/** Bumped when the stored layout changes; an entry of another version is purged on sight (Kong). */
export const CACHE_VERSION = 1

export interface CachedResponse {
  readonly kind: 'response'
  /** the entry's key (X-Cache-Key) */
  readonly key: string
  readonly status: number
  /** lower-case names; never mutated (replies copy it) */
  readonly headers: Readonly<Record<string, string | string[]>>
  readonly body: Buffer
  /** ms since the epoch */
  readonly storedAt: number
  /** seconds it is fresh */
  readonly ttl: number
  /** seconds past freshness it may be served while refreshing / when the upstream fails */
  readonly swr: number
  readonly sie: number
  /** how long stores keep it (ms) */
  readonly storageMs: number
  readonly bytes: number
  /** for a variant: the base key, its Vary names and the index epoch it was stored under */
  readonly base: string | null
  readonly vary: readonly string[] | null
  readonly epoch: string | null
}

export interface VaryIndex {
  readonly kind: 'vary'
  readonly key: string
  /** lower-case request header names, in the first response's order */
  readonly names: readonly string[]
  readonly epoch: string
  readonly storedAt: number
  readonly storageMs: number
  readonly bytes: number
}

export type Stored = CachedResponse | VaryIndex

/** Response headers a cached copy never carries: framing, per-request and per-hit ones. */
const NOT_STORED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'x-request-id',
  'age',
  'x-cache-status',
  'x-cache-key',
  'x-cache',
  'set-cookie',
])

/**
 * The headers worth replaying from a response head: what the upstream (and the response phase)
 * set, minus framing, the request id, the cache's own headers, rate-limit counters and the
 * per-request headers plugins queued in `ctx.responseHeaders` (Kong never replays
 * `*ratelimit-remaining*` either).
 */
export function storableHeaders(
  headers: Record<string, string | string[]>,
  perRequest: readonly string[] | null,
): { headers: Record<string, string | string[]>; bytes: number } {
  const skip =
    perRequest === null ? null : new Set(perRequest.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()))
  const out: Record<string, string | string[]> = {}
  let bytes = 0
  for (const name in headers) {
    if (NOT_STORED.has(name) || name.includes('ratelimit') || skip?.has(name)) continue
    const v = headers[name]!
    out[name] = Array.isArray(v) ? [...v] : v
    bytes += name.length + (Array.isArray(v) ? v.join('').length : v.length) + 4
  }
  return { headers: Object.freeze(out) as Record<string, string | string[]>, bytes }
}

interface Meta {
  v: number
  kind: 'response' | 'vary'
  key: string
  storedAt: number
  storageMs: number
  status?: number
  headers?: Record<string, string | string[]>
  ttl?: number
  swr?: number
  sie?: number
  base?: string | null
  vary?: string[] | null
  epoch?: string | null
  names?: string[]
}

/** Serialises an entry for Redis (one buffer, the body copied once). */
export function encode(e: Stored): Buffer {
  const meta: Meta =
    e.kind === 'vary'
      ? {
          v: CACHE_VERSION,
          kind: 'vary',
          key: e.key,
          storedAt: e.storedAt,
          storageMs: e.storageMs,
          names: [...e.names],
          epoch: e.epoch,
        }
      : {
          v: CACHE_VERSION,
          kind: 'response',
          key: e.key,
          storedAt: e.storedAt,
          storageMs: e.storageMs,
          status: e.status,
          headers: e.headers as Record<string, string | string[]>,
          ttl: e.ttl,
          swr: e.swr,
          sie: e.sie,
          base: e.base,
          vary: e.vary === null ? null : [...e.vary],
          epoch: e.epoch,
        }
  const json = Buffer.from(JSON.stringify(meta))
  const body = e.kind === 'vary' ? null : e.body
  const out = Buffer.allocUnsafe(4 + json.length + (body?.length ?? 0))
  out.writeUInt32BE(json.length, 0)
  json.copy(out, 4)
  body?.copy(out, 4 + json.length)
  return out
}

/** Parses an encoded entry; `'stale-format'` for another layout version, null for garbage. */
export function decode(buf: Buffer): Stored | 'stale-format' | null {
  if (buf.length < 4) return null
  const n = buf.readUInt32BE(0)
  if (4 + n > buf.length) return null
  let meta: Meta
  try {
    meta = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as Meta
  } catch {
    return null
  }
  if (meta.v !== CACHE_VERSION) return 'stale-format'
  if (meta.kind === 'vary') {
    return {
      kind: 'vary',
      key: meta.key,
      names: Object.freeze(meta.names ?? []),
      epoch: meta.epoch ?? '',
      storedAt: meta.storedAt,
      storageMs: meta.storageMs,
      bytes: buf.length,
    }
  }
  // the body keeps its own copy: the Redis reply buffer is not pinned by a long-lived entry
  const body = Buffer.from(buf.subarray(4 + n))
  return {
    kind: 'response',
    key: meta.key,
    status: meta.status ?? 200,
    headers: Object.freeze(meta.headers ?? {}),
    body,
    storedAt: meta.storedAt,
    ttl: meta.ttl ?? 0,
    swr: meta.swr ?? 0,
    sie: meta.sie ?? 0,
    storageMs: meta.storageMs,
    bytes: buf.length,
    base: meta.base ?? null,
    vary: meta.vary ? Object.freeze(meta.vary) : null,
    epoch: meta.epoch ?? null,
  }
}

/**
 * An entry as the Admin API shows it (`GET /proxy-cache/:key`): Kong's fields (`status`,
 * `headers`, `body`, `body_len`, `timestamp` in seconds, `ttl`, `version`) plus Portico's.
 */
export function describe(e: Stored): Record<string, unknown> {
  if (e.kind === 'vary') {
    return { key: e.key, vary: e.names, timestamp: Math.floor(e.storedAt / 1000), version: CACHE_VERSION }
  }
  return {
    key: e.key,
    status: e.status,
    // Kong stores the response headers after setting X-Cache-Key, so its entry shows it; the
    // stored copy here leaves it out (it is per hit) and the view puts it back
    headers: { ...e.headers, 'X-Cache-Key': e.key },
    body: e.body.toString('utf8'),
    body_len: e.body.length,
    timestamp: Math.floor(e.storedAt / 1000),
    ttl: e.ttl,
    version: CACHE_VERSION,
    stale_while_revalidate: e.swr,
    stale_if_error: e.sie,
    vary: e.vary,
  }
}

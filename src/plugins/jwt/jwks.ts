import { createPublicKey, type KeyObject } from 'node:crypto'
import { request } from 'undici'
import type { JwtAlgorithm } from '../../core/entities.js'
import type { Logger } from '../../core/logger.js'
import { publicKeyVerifier, type Verifier } from './algorithms.js'

/** Limits of a JWKS fetch: the only outbound request a token can ever cause. */
export interface JwksOptions {
  /** whole fetch, connect to last byte (ms) */
  timeoutMs: number
  /** at most one token-triggered refresh per this interval once keys are loaded (ms) */
  minRefreshMs: number
  /** same, while no key could be loaded yet (ms) */
  retryMs: number
  /**
   * the longest a key set is used before it is fetched again (ms): the response's own
   * `Cache-Control: max-age` / `Expires` when shorter (at least {@link MIN_LIFETIME_MS}), else this
   */
  maxAgeMs: number
  maxBytes: number
  maxKeys: number
}

export const JWKS_DEFAULTS: JwksOptions = {
  timeoutMs: 2000,
  minRefreshMs: 60_000,
  retryMs: 5000,
  maxAgeMs: 10 * 60_000,
  maxBytes: 512 * 1024,
  maxKeys: 100,
}

/** The shortest lifetime a key set gets, whatever its headers say: one fetch a second at most. */
export const MIN_LIFETIME_MS = 1000

/**
 * How long a JWKS response may be used, from its caching headers (RFC 9111 §4.2.1): `no-store`
 * or `no-cache` → 0, `max-age` less the `Age` it already has, else `Expires` less `Date`; null
 * when the response says nothing.
 *
 * @example
 *   lifetimeMs({ 'cache-control': 'public, max-age=2' }) // 2000
 */
export function lifetimeMs(headers: Record<string, string | string[] | undefined>): number | null {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v)
  const cc = one(headers['cache-control'])?.toLowerCase()
  if (cc !== undefined) {
    if (/(?:^|,)\s*(?:no-store|no-cache)\b/.test(cc)) return 0
    const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)/.exec(cc)
    if (m !== null) return Math.max(0, Number(m[1]) - (Number(one(headers.age)) || 0)) * 1000
  }
  const expires = one(headers.expires)
  if (expires === undefined) return null
  const at = Date.parse(expires)
  const date = Date.parse(one(headers.date) ?? '')
  if (Number.isNaN(at)) return 0 // RFC 9111: an invalid Expires means already expired
  return Math.max(0, at - (Number.isNaN(date) ? Date.now() : date))
}

interface JwkEntry {
  readonly kid: string | undefined
  readonly alg: string | undefined
  readonly key: KeyObject
  readonly verifiers: Map<string, Verifier | null>
}

/**
 * One JWKS URL's public keys, fetched with a timeout and a size bound, cached, and refreshed
 * when a token names a `kid` the cache does not have — at most once per `minRefreshMs`. Only
 * asymmetric signing keys are kept (an `oct` key in a JWKS is ignored: secrets are never
 * fetched). Shared per URL by every credential and kept across reloads.
 *
 * @example
 *   const jwks = new JwksSource('https://idp.example/.well-known/jwks.json')
 *   await jwks.refresh()
 *   jwks.verifiers('RS256', 'key-2024')
 */
export class JwksSource {
  #keys: JwkEntry[] = []
  #loadedAt = 0
  /** when the key set in hand stops being usable without a fetch (its headers, bounded) */
  #expiresAt = 0
  /** last refresh a token caused */
  #kidAt = Number.NEGATIVE_INFINITY
  #inflight: Promise<void> | null = null
  /** fetches started (status and tests) */
  fetches = 0
  /** bumped by every successful fetch: a token verified under an older key set is re-verified */
  generation = 0
  lastError: string | null = null

  constructor(
    readonly uri: string,
    readonly options: JwksOptions = JWKS_DEFAULTS,
    readonly log?: Logger,
  ) {}

  get loaded(): boolean {
    return this.#loadedAt > 0
  }

  /**
   * Verifiers for the keys that fit `alg`: the key named `kid`, or, for a token without
   * `kid`, every fitting key. Empty when none is known (the caller may {@link refresh}).
   */
  verifiers(alg: JwtAlgorithm, kid: string | undefined): Verifier[] {
    const out: Verifier[] = []
    for (const e of this.#keys) {
      if (kid !== undefined && e.kid !== kid) continue
      if (e.alg !== undefined && e.alg !== alg) continue
      let v = e.verifiers.get(alg)
      if (v === undefined) e.verifiers.set(alg, (v = publicKeyVerifier(alg, e.key) ?? null))
      if (v !== null) out.push(v)
    }
    this.#expire()
    return out
  }

  /**
   * The generation of the key set, after starting its refresh when its lifetime is over: a
   * verification cached under an older generation must be done again (plugin.ts), so a token
   * whose key was withdrawn stops passing even when its result was cached.
   */
  currentGeneration(): number {
    this.#expire()
    return this.generation
  }

  #expire(): void {
    if (this.loaded && Date.now() > this.#expiresAt) {
      // one background refresh per expiry, not one per request; it replaces the keys, so a key
      // withdrawn from the set stops verifying once the set's own lifetime is over
      this.#expiresAt = Date.now() + MIN_LIFETIME_MS
      void this.refresh('load')
    }
  }

  /**
   * Fetches the key set again. `reason: 'kid'` (a token named a key the cache does not have) is
   * rate-limited: at most once per `minRefreshMs` (`retryMs` while nothing could be loaded yet),
   * else null. `'load'` (config load, keys past `maxAgeMs`) only joins a fetch in flight. Never
   * rejects: a failed fetch keeps the keys already known.
   */
  refresh(reason: 'kid' | 'load' = 'kid'): Promise<void> | null {
    if (this.#inflight !== null) return this.#inflight
    const now = Date.now()
    if (reason === 'kid') {
      const wait = this.loaded ? this.options.minRefreshMs : this.options.retryMs
      if (now - this.#kidAt < wait) return null
      this.#kidAt = now
    }
    this.fetches++
    this.#inflight = this.#fetch().then(
      ({ keys, lifetime }) => {
        this.#keys = keys
        this.#loadedAt = Date.now()
        const ms = Math.min(
          this.options.maxAgeMs,
          Math.max(MIN_LIFETIME_MS, lifetime ?? this.options.maxAgeMs),
        )
        this.#expiresAt = this.#loadedAt + ms
        this.generation++
        this.lastError = null
      },
      (err: unknown) => {
        this.lastError = (err as Error).message
        this.log?.warn({ jwks_uri: this.uri, err: this.lastError }, 'jwt: JWKS fetch failed')
      },
    )
    this.#inflight.finally(() => (this.#inflight = null))
    return this.#inflight
  }

  async #fetch(): Promise<{ keys: JwkEntry[]; lifetime: number | null }> {
    const { timeoutMs, maxBytes, maxKeys } = this.options
    const res = await request(this.uri, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // one fetch a minute at most: no idle connection worth keeping
      reset: true,
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (res.statusCode !== 200) {
      await res.body.dump()
      throw new Error(`JWKS answered ${res.statusCode}`)
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length
      if (size > maxBytes) {
        res.body.destroy()
        throw new Error(`JWKS larger than ${maxBytes} bytes`)
      }
      chunks.push(chunk as Buffer)
    }
    const lifetime = lifetimeMs(res.headers)
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown }
    if (!Array.isArray(doc.keys)) throw new Error('JWKS without a "keys" array')
    const out: JwkEntry[] = []
    for (const jwk of doc.keys.slice(0, maxKeys) as Array<Record<string, unknown>>) {
      if (jwk === null || typeof jwk !== 'object' || jwk.kty === 'oct') continue
      if (jwk.use !== undefined && jwk.use !== 'sig') continue
      try {
        const key = createPublicKey({ key: jwk as never, format: 'jwk' })
        out.push({
          kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
          alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
          key,
          verifiers: new Map(),
        })
      } catch {
        // a key node:crypto cannot read is skipped, the others still serve
      }
    }
    return { keys: out, lifetime }
  }
}

import { JWT_ALGORITHMS } from '../../config/consumer-schemas.js'
import type { JwtAlgorithm } from '../../core/entities.js'

/** The algorithms a credential may pin (the credential schema's list). */
export const ALGORITHMS: ReadonlySet<string> = new Set<JwtAlgorithm>(JWT_ALGORITHMS)

/** Tokens longer than this are refused before any decoding (DESIGN §5). */
export const MAX_TOKEN_LENGTH = 8192

/** A JWS in compact form, split and decoded but not verified. */
export interface DecodedToken {
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  readonly alg: JwtAlgorithm
  /** `base64url(header) . base64url(claims)`: the bytes the signature covers */
  readonly signingInput: string
  readonly signature: Buffer
}

// RFC 7515 §2: base64url without padding; nothing else is a JWS segment
const SEGMENT = /^[A-Za-z0-9_-]*$/

function segment(s: string): Buffer | undefined {
  if (s.length % 4 === 1 || !SEGMENT.test(s)) return undefined
  return Buffer.from(s, 'base64url')
}

function object(s: string): Record<string, unknown> | null | undefined {
  const bytes = segment(s)
  if (bytes === undefined) return undefined
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'))
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
    return v as Record<string, unknown>
  } catch {
    return undefined
  }
}

/**
 * Splits and decodes a compact JWS, strictly: three base64url segments, a JSON object header
 * with an `alg` Portico knows, a JSON object payload. Returns the token, or the reason it is
 * not one, worded as Kong's jwt parser (`Bad token; <reason>`).
 *
 * @example
 *   decodeToken('eyJhbGciOiJub25lIn0.e30.')  // → 'invalid alg'
 *   decodeToken('a.b')                        // → 'invalid JSON'
 */
export function decodeToken(token: string): DecodedToken | string {
  const d1 = token.indexOf('.')
  const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1)
  if (d2 === -1) return 'invalid JSON'
  const header = object(token.slice(0, d1))
  if (header == null) return 'invalid JSON'
  const alg = header.alg
  if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) return 'invalid alg'
  // RFC 7515 §4.1.11: extensions marked critical must be understood; Portico knows none
  if (header.crit !== undefined) return 'unsupported crit'
  const claims = object(token.slice(d1 + 1, d2))
  if (claims === undefined) return 'invalid JSON'
  if (claims === null) return 'invalid claims'
  const signature = segment(token.slice(d2 + 1))
  if (signature === undefined) return 'invalid JSON'
  return { header, claims, alg: alg as JwtAlgorithm, signingInput: token.slice(0, d2), signature }
}

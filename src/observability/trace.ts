import { randomFillSync } from 'node:crypto'

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header is
 * `version-traceid-parentid-flags`, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
 * The gateway is one hop of the trace: it keeps the caller's trace id (or starts a trace when
 * there is none or it is malformed) and names its own span as the upstream's parent.
 */

/** A parsed `traceparent`. */
export interface TraceParent {
  traceId: string
  parentId: string
  flags: string
}

// Random ids are cut from one hex string made from 8 KiB of random bytes at a time: one crypto
// call and one hex conversion per ~500 ids, and each id is a slice of that string (V8 shares
// the characters instead of copying them). Converting each id on its own costs ~300 ns.
const POOL_BYTES = 8192
const pool = Buffer.allocUnsafe(POOL_BYTES)
let hex = ''
let offset = 0

function randomHex(bytes: number): string {
  const chars = bytes * 2
  for (;;) {
    if (offset + chars > hex.length) {
      randomFillSync(pool)
      hex = pool.toString('hex')
      offset = 0
    }
    const id = hex.slice(offset, offset + chars)
    offset += chars
    // an all-zero id is invalid by the spec: draw again (one chance in 2^64 or less)
    if (!isZero(id)) return id
  }
}

function isZero(id: string): boolean {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) !== 48) return false
  return true
}

/**
 * A new 16-byte trace id, 32 lower-case hex digits.
 *
 * @example
 *   newTraceId() // '4bf92f3577b34da6a3ce929d0e0e4736'
 */
export function newTraceId(): string {
  return randomHex(16)
}

/**
 * A new 8-byte span id, 16 lower-case hex digits.
 *
 * @example
 *   newSpanId() // '00f067aa0ba902b7'
 */
export function newSpanId(): string {
  return randomHex(8)
}

/** lower-case hex digits only, and not all zeros */
function isHexId(s: string, from: number, to: number): boolean {
  let nonZero = false
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c === 48) continue
    if (!((c > 48 && c <= 57) || (c >= 97 && c <= 102))) return false
    nonZero = true
  }
  return nonZero
}

function isHexByte(s: string, at: number): boolean {
  for (let i = at; i < at + 2; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false
  }
  return true
}

/**
 * Parses a `traceparent` value; null when it is malformed (the caller then starts a new trace,
 * as the spec asks). Versions above 00 are read by their 00 prefix, as the spec allows.
 *
 * @example
 *   parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 *   // { traceId: '4bf92f35…', parentId: '00f067aa0ba902b7', flags: '01' }
 */
export function parseTraceparent(value: string | undefined): TraceParent | null {
  if (!isValidTraceparent(value)) return null
  return { traceId: value.slice(3, 35), parentId: value.slice(36, 52), flags: value.slice(53, 55) }
}

function isValidTraceparent(v: string | undefined): v is string {
  if (v === undefined || v.length < 55) return false
  if (v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return false
  if (!isHexByte(v, 0) || (v.charCodeAt(0) === 102 && v.charCodeAt(1) === 102)) return false // ff is invalid
  const version00 = v.charCodeAt(0) === 48 && v.charCodeAt(1) === 48
  if (version00 ? v.length !== 55 : v.length > 55 && v.charCodeAt(55) !== 45) return false
  return isHexId(v, 3, 35) && isHexId(v, 36, 52) && isHexByte(v, 53)
}

/**
 * The `traceparent` for the upstream hop: the caller's trace id and flags with a new parent id
 * (this hop's span), or a new sampled trace when the caller sent none or a malformed one.
 *
 * @example
 *   childTraceparent(undefined)  // '00-<new trace id>-<new span id>-01'
 *   childTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 *   // '00-4bf92f3577b34da6a3ce929d0e0e4736-<new span id>-01'
 */
export function childTraceparent(incoming: string | undefined): string {
  if (!isValidTraceparent(incoming)) return `00-${randomHex(16)}-${randomHex(8)}-01`
  return `00-${incoming.slice(3, 35)}-${randomHex(8)}-${incoming.slice(53, 55)}`
}

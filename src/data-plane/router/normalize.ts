/**
 * Request-path normalisation, done once per request before routing (DESIGN §2.4, §5). The router,
 * the auth plugins and the upstream all see the same string, so a path cannot be routed as one
 * thing and served as another.
 */

const SLASH = 0x2f
const DOT = 0x2e
const PERCENT = 0x25
const BACKSLASH = 0x5c
const HEX = '0123456789ABCDEF'

/** RFC 3986 §2.3: the only characters whose escapes may be decoded without changing meaning. */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === DOT ||
    c === 0x5f ||
    c === 0x7e
  )
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/**
 * Decodes escapes of unreserved characters and upper-cases the others. Null when an escape is
 * malformed or hides a separator (`%2F`, `%5C`) or a NUL: those are the classic ways to make the
 * gateway and the upstream disagree on what the path is, so they are refused rather than guessed.
 */
function decodeUnreserved(raw: string): string | null {
  let out = ''
  let from = 0
  let i = raw.indexOf('%')
  while (i !== -1) {
    const hi = hexValue(raw.charCodeAt(i + 1))
    const lo = hexValue(raw.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) return null
    const byte = hi * 16 + lo
    if (byte === SLASH || byte === BACKSLASH || byte === 0) return null
    out += raw.slice(from, i)
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`
    from = i + 3
    i = raw.indexOf('%', from)
  }
  return out + raw.slice(from)
}

/** RFC 3986 §5.2.4 on an absolute path, with empty segments dropped (`//` → `/`). */
function removeDotSegments(path: string): string {
  const segments = path.split('/')
  const out: string[] = []
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!
    if (seg === '' || seg === '.') continue
    if (seg === '..') out.pop()
    else out.push(seg)
  }
  const last = segments[segments.length - 1]
  const trailingSlash = last === '' || last === '.' || last === '..'
  const joined = `/${out.join('/')}`
  return trailingSlash && out.length > 0 ? `${joined}/` : joined
}

/**
 * Normalises the path of a request target (without its query): decodes escapes of unreserved
 * characters, upper-cases the other escapes, resolves `.`/`..` (never above the root) and
 * collapses duplicate slashes. Returns null when the path must be answered with 400: encoded `/`
 * or `\`, a raw `\`, a control character or encoded NUL, a malformed escape, or no leading `/`.
 *
 * An already-clean path, the overwhelming majority, is scanned once and returned as the same
 * string without allocating.
 *
 * @example
 *   normalizePath('/api//v1/./users/../%7Euser') // '/api/v1/~user'
 *   normalizePath('/files/a%2Fb')                // null
 */
export function normalizePath(raw: string): string | null {
  const n = raw.length
  if (n === 0 || raw.charCodeAt(0) !== SLASH) return null
  let clean = true
  // The scan continues after the first sign of work because a control character or a backslash
  // anywhere must still reject the whole path.
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i)
    if (c < 0x20 || c === 0x7f || c === BACKSLASH) return null
    if (!clean) continue
    if (c === PERCENT) {
      clean = false
    } else if (c === SLASH) {
      const c1 = raw.charCodeAt(i + 1)
      if (c1 === SLASH) {
        clean = false
      } else if (c1 === DOT) {
        const c2 = raw.charCodeAt(i + 2)
        if (i + 2 === n || c2 === SLASH) clean = false
        else if (c2 === DOT && (i + 3 === n || raw.charCodeAt(i + 3) === SLASH)) clean = false
      }
    }
  }
  if (clean) return raw
  // Decoding comes first so that `%2E%2E` is resolved as the `..` it will become upstream.
  const decoded = raw.indexOf('%') === -1 ? raw : decodeUnreserved(raw)
  return decoded === null ? null : removeDotSegments(decoded)
}

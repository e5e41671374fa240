/**
 * The HTTP rules proxy-cache applies: Cache-Control directives (RFC 9111 §5.2), a response's
 * freshness lifetime, and the content-type match (Kong 3.x: type, subtype and parameters,
 * with `type/*` and `*\/*` wildcards).
 */

/** Parsed directives: a bare directive is `true`, a numeric one a number, else its string. */
export type Directives = Record<string, number | string | true>

const NONE: Directives = Object.freeze({}) as Directives

/**
 * @example
 *   parseDirectives('public, max-age=60, no-cache="set-cookie"')
 *   // → { public: true, 'max-age': 60, 'no-cache': 'set-cookie' }
 */
export function parseDirectives(header: string | string[] | undefined): Directives {
  if (header === undefined || header === '') return NONE
  const text = Array.isArray(header) ? header.join(',') : header
  const out: Directives = {}
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name === '') continue
    if (eq === -1) {
      out[name] = true
      continue
    }
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
    out[name] = Number.isNaN(n) ? value : n
  }
  return out
}

/** A numeric directive, or undefined when absent or not a number. */
export function seconds(d: Directives, name: string): number | undefined {
  const v = d[name]
  return typeof v === 'number' ? v : undefined
}

/**
 * Freshness lifetime of a response in seconds (Kong's `calculate_resource_ttl`): `s-maxage`,
 * else `max-age`, else `Expires` minus `Date` (or now); never negative.
 *
 * @example
 *   resourceTtl(parseDirectives('max-age=30'), {}, Date.now())   // → 30
 */
export function resourceTtl(
  cc: Directives,
  headers: Record<string, string | string[] | undefined>,
  now: number,
): number {
  const age = seconds(cc, 's-maxage') ?? seconds(cc, 'max-age')
  if (age !== undefined) return Math.max(0, age)
  const expires = last(headers.expires)
  if (expires === undefined) return 0
  const at = Date.parse(expires)
  if (Number.isNaN(at)) return 0
  const date = last(headers.date)
  const base = date === undefined ? now : Date.parse(date)
  return Math.max(0, Math.floor((at - (Number.isNaN(base) ? now : base)) / 1000))
}

function last(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v
}

interface Mime {
  type: string
  subtype: string
  params: string
}

function parseMime(value: string): Mime | null {
  const semi = value.indexOf(';')
  const full = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  const slash = full.indexOf('/')
  if (slash <= 0 || slash === full.length - 1) return null
  const params: string[] = []
  if (semi !== -1) {
    for (const p of value.slice(semi + 1).split(';')) {
      const eq = p.indexOf('=')
      // a parameter without `=` (`application/xml;`) makes the whole type malformed: it matches
      // nothing, configured or received (Kong's parse_mime_type)
      if (eq === -1) return null
      let v = p
        .slice(eq + 1)
        .trim()
        .toLowerCase()
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
      params.push(`${p.slice(0, eq).trim().toLowerCase()}=${v}`)
    }
    params.sort()
  }
  return { type: full.slice(0, slash), subtype: full.slice(slash + 1), params: params.join(';') }
}

/**
 * Compiles the configured content types into a matcher. A response type matches when its
 * type and subtype match (or the configured one is `type/*` or `*\/*`) and its parameters are
 * the configured ones (`application/json` does not match `application/json; charset=utf-8`,
 * as in Kong). A missing or repeated Content-Type never matches.
 *
 * @example
 *   const ok = contentTypeMatcher(['application/json', 'text/*'])
 *   ok('text/html')                          // → true
 *   ok('application/json; charset=utf-8')    // → false
 */
export function contentTypeMatcher(
  configured: readonly string[],
): (ct: string | string[] | undefined) => boolean {
  const exact = new Set<string>()
  const wild: Mime[] = []
  for (const c of configured) {
    const m = parseMime(c)
    if (m === null) continue
    if (m.type === '*' || m.subtype === '*') wild.push(m)
    else exact.add(`${m.type}/${m.subtype};${m.params}`)
  }
  // per-response memo: a handful of distinct Content-Type strings per route in practice
  const seen = new Map<string, boolean>()
  return (ct) => {
    if (typeof ct !== 'string' || ct === '') return false
    const known = seen.get(ct)
    if (known !== undefined) return known
    const m = parseMime(ct)
    let ok = false
    if (m !== null) {
      ok =
        exact.has(`${m.type}/${m.subtype};${m.params}`) ||
        wild.some(
          (w) =>
            (w.type === '*' || w.type === m.type) &&
            (w.subtype === '*' || w.subtype === m.subtype) &&
            w.params === m.params,
        )
    }
    if (seen.size < 256) seen.set(ct, ok)
    return ok
  }
}

import { compileLinear, type LinearRegex } from '../../core/linear-regex.js'

/** An origin split as Kong's `normalize_origin` does: `scheme://host[:port]` without default ports. */
export interface Origin {
  domain: string
  host: string
}

const URL_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?/

/**
 * @example
 *   normalizeOrigin('https://a.example.com:443')  // → { domain: 'https://a.example.com', host: 'a.example.com' }
 *   normalizeOrigin('a.example.com')              // → { domain: 'a.example.com', host: 'a.example.com' }
 */
export function normalizeOrigin(value: string): Origin {
  const m = URL_FORM.exec(value)
  if (m === null || m[2] === '') return { domain: value, host: value }
  const scheme = m[1]!
  const host = m[2]!
  let port: string | undefined = m[3]
  const lower = scheme.toLowerCase()
  if ((lower === 'http' && port === '80') || (lower === 'https' && port === '443') || port === '')
    port = undefined
  return { domain: `${scheme}://${host}${port === undefined ? '' : `:${port}`}`, host }
}

/** Letters, digits and `.:/-` only: a flat origin; anything else is a regex (Kong's rule). */
const FLAT = /^[A-Za-z0-9.:/-]+$/

type Entry = { regex: LinearRegex; byHost: boolean } | { domain: string }

/**
 * The configured origins compiled once: exact entries normalised, regex entries anchored at both
 * ends (Kong 0.x left them unanchored; an explicit `^`/`$` is kept meaningful) and matched
 * against the request origin's host when the entry has no `:`, its full origin otherwise.
 *
 * @example
 *   const m = new OriginMatcher(['https://a.example.com', '.*\\.example\\.org'])
 *   m.match('https://b.example.org')   // → 'https://b.example.org'
 *   m.match('https://evil.com')        // → null
 */
export class OriginMatcher {
  readonly #entries: Entry[]

  constructor(origins: readonly string[]) {
    this.#entries = origins.map((entry): Entry => {
      if (FLAT.test(entry)) return { domain: normalizeOrigin(entry).domain }
      let source = entry
      if (!source.endsWith('$')) source = `${source}$`
      if (source.startsWith('^')) source = source.slice(1)
      return { regex: compileLinear(`^(?:${source})`), byHost: !entry.includes(':') }
    })
  }

  /** The normalised request origin when an entry allows it, else null. */
  match(requestOrigin: string): string | null {
    const o = normalizeOrigin(requestOrigin)
    for (const e of this.#entries) {
      if ('domain' in e ? e.domain === o.domain : e.regex.test(e.byHost ? o.host : o.domain)) return o.domain
    }
    return null
  }
}

/** A flat (non-regex) origin: sent as is when it is the only one configured. */
export function isFlatOrigin(value: string): boolean {
  return FLAT.test(value)
}

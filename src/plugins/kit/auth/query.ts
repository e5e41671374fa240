/** One query parameter: absent, a single value, several values, or a bare flag (`?apikey`). */
export type QueryValue = undefined | string | string[] | true

function decode(part: string): string {
  const s = part.indexOf('+') === -1 ? part : part.replace(/\+/g, ' ')
  if (s.indexOf('%') === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * The value(s) of one parameter of a raw query string, decoded as Kong's `get_query` does
 * (`+` is a space; a name without `=` is a flag, `true`; repeated names give an array).
 * Names are case-sensitive.
 *
 * @example
 *   queryParam('apikey=k1&x=2', 'apikey')       // → 'k1'
 *   queryParam('apikey=a&apikey=b', 'apikey')   // → ['a', 'b']
 */
export function queryParam(query: string, name: string): QueryValue {
  if (query === '') return undefined
  let out: QueryValue
  let start = 0
  while (start <= query.length) {
    let end = query.indexOf('&', start)
    if (end === -1) end = query.length
    if (end > start) {
      const eq = query.indexOf('=', start)
      const hasValue = eq !== -1 && eq < end
      const key = decode(query.slice(start, hasValue ? eq : end))
      if (key === name) {
        const v: string | true = hasValue ? decode(query.slice(eq + 1, end)) : true
        if (out === undefined) out = v
        else if (Array.isArray(out)) out.push(v === true ? '' : v)
        else out = [out === true ? '' : out, v === true ? '' : v]
      }
    }
    start = end + 1
  }
  return out
}

/**
 * The raw query string without the named parameters (hide_credentials), every other byte as
 * the client sent it.
 *
 * @example
 *   withoutParams('a=1&apikey=k&b=2', new Set(['apikey'])) // → 'a=1&b=2'
 */
export function withoutParams(query: string, names: ReadonlySet<string>): string {
  if (query === '') return query
  const kept: string[] = []
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (!names.has(decode(eq === -1 ? part : part.slice(0, eq)))) kept.push(part)
  }
  return kept.join('&')
}

import type { IncomingHttpHeaders } from 'node:http'
import { compileLinear, type LinearRegex } from '../../core/linear-regex.js'

/**
 * The non-path conditions of a route, checked per candidate during a lookup. Everything is
 * prepared at build time (lower-cased values, compiled regexes) so a check never allocates.
 */

/** One `headers` entry of a route: the request must carry `name` with one of these values. */
export interface HeaderRule {
  name: string
  /** plain values, lower-cased */
  values: readonly string[]
  /** `~*` values, compiled case-insensitive and unanchored as Kong does, on the linear engine */
  patterns: readonly LinearRegex[]
}

/**
 * Compiles a route's `headers` map; null when it has none.
 *
 * @example
 *   compileHeaders({ 'x-version': ['v1', '~*^beta-\\d+$'] })
 */
export function compileHeaders(headers: Record<string, string[]> | null | undefined): HeaderRule[] | null {
  if (!headers) return null
  const rules: HeaderRule[] = []
  for (const [name, list] of Object.entries(headers)) {
    const values: string[] = []
    const patterns: LinearRegex[] = []
    for (const v of list) {
      if (v.startsWith('~*')) patterns.push(compileLinear(v.slice(2), { ignoreCase: true }))
      else values.push(v.toLowerCase())
    }
    rules.push({ name: name.toLowerCase(), values, patterns })
  }
  return rules.length > 0 ? rules : null
}

/** ASCII case-insensitive `s[from,to) === lower`, without building a lower-cased copy. */
function equalsLower(s: string, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(from + i)
    if (c >= 0x41 && c <= 0x5a) c += 0x20
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09
}

/**
 * Node joins repeated header lines with `, `. Kong sees each line as its own value, so besides
 * the whole value each comma-separated element is tried (RFC 9110 §5.3 makes them equivalent).
 */
function valueMatches(rule: HeaderRule, value: string): boolean {
  const plain = rule.values
  for (let k = 0; k < plain.length; k++) {
    const want = plain[k]!
    if (equalsLower(value, 0, value.length, want)) return true
    if (value.indexOf(',') === -1) continue
    let start = 0
    while (start <= value.length) {
      let end = value.indexOf(',', start)
      if (end === -1) end = value.length
      let a = start
      let b = end
      while (a < b && isSpace(value.charCodeAt(a))) a++
      while (b > a && isSpace(value.charCodeAt(b - 1))) b--
      if (equalsLower(value, a, b, want)) return true
      start = end + 1
    }
  }
  const patterns = rule.patterns
  for (let k = 0; k < patterns.length; k++) {
    const re = patterns[k]!
    if (re.test(value)) return true
    if (value.indexOf(',') === -1) continue
    for (const part of value.split(',')) if (re.test(part.trim())) return true
  }
  return false
}

/** True when every rule is satisfied by the request headers. */
export function headersMatch(rules: readonly HeaderRule[], headers: IncomingHttpHeaders): boolean {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    const v = headers[rule.name]
    if (v === undefined) return false
    if (typeof v === 'string') {
      if (!valueMatches(rule, v)) return false
      continue
    }
    let any = false
    for (let j = 0; j < v.length && !any; j++) any = valueMatches(rule, v[j]!)
    if (!any) return false
  }
  return true
}

/** Methods are compared as sent: Kong's methods are upper-case and case-sensitive. */
export function methodMatches(methods: readonly string[], method: string): boolean {
  for (let i = 0; i < methods.length; i++) if (methods[i] === method) return true
  return false
}

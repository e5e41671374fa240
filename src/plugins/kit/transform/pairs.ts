/** One `name:value` config entry, split as Kong does. */
export interface Pair {
  name: string
  /** '' when nothing follows the colon(s) */
  value: string
}

const PAIR = /^([^:]+):*([\s\S]*)$/

/**
 * Splits a Kong `name:value` entry: the name runs to the first colon, every colon after it is
 * skipped (`a::b` is `a` → `b`), the rest is the value (Kong's `^([^:]+):*(.-)$`).
 *
 * @example
 *   splitPair('x-api-version:2')      // → { name: 'x-api-version', value: '2' }
 *   splitPair('url:http://a/b')       // → { name: 'url', value: 'http://a/b' }
 *   splitPair('a::b')                 // → { name: 'a', value: 'b' }
 *   splitPair('flag')                 // → { name: 'flag', value: '' }
 */
export function splitPair(entry: string): Pair {
  const m = PAIR.exec(entry)
  if (m === null) return { name: entry, value: '' }
  return { name: m[1]!, value: m[2]! }
}

/** Kong's `^[^:]+:.*$`: a name, a colon, anything. */
export const COLON_ENTRY = /^[^:]+:[\s\S]*$/

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** An HTTP header name (RFC 9110 token), Kong's `validate_header_name`. */
export function isHeaderName(s: string): boolean {
  return TOKEN.test(s)
}

/** A header value without control characters other than tab (Kong's `validate_header_value`). */
export function isHeaderValue(s: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(s)
}

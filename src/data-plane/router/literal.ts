/**
 * The literal text every match of a path regex must start with. A gateway config often has many
 * regex routes under one host (`~/users/(?<id>\d+)`, `~/orders/…`); comparing this prefix with
 * `startsWith` rules most of them out for the cost of a string compare instead of a regex run.
 */

const META = '\\^$.|?*+()[]{}'

function isWordChar(ch: string): boolean {
  return /^[A-Za-z0-9]$/.test(ch)
}

/**
 * Returns the literal prefix of the pattern in an anchored `^(?:pattern)` regex source, or ''
 * when none can be proven. Conservative by construction: it stops at the first construct it does
 * not fully understand, and gives up on any `|` since another branch could match something else.
 *
 * @example
 *   literalPrefix(new RegExp('^(?:/users/(?<id>\\d+))').source) // '/users/'
 *   literalPrefix(new RegExp('^(?:/v1?/x)').source)            // '/v'
 */
export function literalPrefix(source: string): string {
  if (!source.startsWith('^(?:') || !source.endsWith(')')) return ''
  const pattern = source.slice(4, -1)
  if (pattern.includes('|')) return ''
  let out = ''
  // a leading `^` written by the user is redundant with the router's own anchor
  let i = pattern.startsWith('^') ? 1 : 0
  while (i < pattern.length) {
    let ch = pattern[i]!
    let next = i + 1
    if (ch === '\\') {
      const escaped = pattern[i + 1]
      // `\d`, `\b`, `\1`, `\u…` and friends are classes, assertions or references, not text
      if (escaped === undefined || isWordChar(escaped)) break
      ch = escaped
      next = i + 2
    } else if (META.includes(ch)) {
      break
    }
    const quantifier = pattern[next]
    // the character may be absent or repeated a counted number of times: it cannot be required
    if (quantifier === '?' || quantifier === '*' || quantifier === '{') break
    out += ch
    if (quantifier === '+') break
    i = next
  }
  return out
}

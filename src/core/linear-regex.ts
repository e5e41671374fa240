import { RE2JS } from 're2js'

/**
 * User-supplied regexes (route `~` paths, route `~*` header values, CORS origins) run on RE2's
 * linear-time engine (the pure-JS port `re2js`), never on V8's backtracking one: with V8,
 * `~/(a+)+$` and a path of 30 `a`s and a `!` would block the event loop for seconds, every
 * extra `a` doubling it. RE2 matches in time linear in the input for every pattern, so no
 * pattern can be refused for being "too slow"; what it cannot express (backreferences,
 * lookaround, repetition counts above 1000) is refused at config load with the reason. Kong 3's
 * router matches with Rust's `regex` crate, which has the same syntax and the same limits.
 *
 * Cost: a match takes about 1–3 µs against V8's 0.2 µs, paid only by regex routes whose
 * literal prefix the path already starts with (see router/literal.ts); prefix routes never run
 * a regex.
 */

export interface LinearRegex {
  /** the pattern as given (without flags), for literal-prefix analysis and messages */
  readonly source: string
  test(input: string): boolean
  /** `RegExp.prototype.exec`'s shape: `[0]` is the match, `groups` the named captures */
  exec(input: string): RegExpExecArray | null
}

export interface LinearRegexOptions {
  ignoreCase?: boolean
}

// V8 and RE2 differ in spelling on one construct people copy from JS docs: `\/`, an escaped
// slash, is accepted by both. `(?<name>` and `(?P<name>` are both RE2 named groups.
const HINT =
  'regexes run on a linear-time engine (RE2 syntax): backreferences and lookaround are not supported'

/**
 * Compiles `source` for the linear-time engine; throws an Error whose message says what is wrong.
 *
 * @example
 *   compileLinear('^(?:/users/(?<id>\\d+))').exec('/users/7')?.groups // { id: '7' }
 *   compileLinear('(a)\\1') // throws: invalid escape sequence: `\1` (…backreferences…)
 */
export function compileLinear(source: string, options: LinearRegexOptions = {}): LinearRegex {
  let re: RE2JS
  try {
    re = RE2JS.compile(source, options.ignoreCase === true ? RE2JS.CASE_INSENSITIVE : 0)
  } catch (err) {
    const message = (err as Error).message.replace(/^error parsing regexp: /, '')
    throw new Error(`${message} (${HINT})`)
  }
  return {
    source,
    test: (input) => re.test(input),
    exec: (input) => re.exec(input) as RegExpExecArray | null,
  }
}

/**
 * The reason `source` cannot be compiled for the linear-time engine, or undefined when it can.
 *
 * @example
 *   linearRegexError('/users/\\d+$') // undefined
 *   linearRegexError('(?=a)')        // 'invalid or unsupported Perl syntax: `(?=` (…)'
 */
export function linearRegexError(source: string, options: LinearRegexOptions = {}): string | undefined {
  try {
    compileLinear(source, options)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Query strings and form bodies as Kong (ngx.decode_args / encode_args) sees them: an ordered
 * map of names to a string, `true` for a bare name (`?debug`), or a list for repeated names.
 */
export type ArgValue = string | true | Array<string | true>
export type Args = Map<string, ArgValue>

function decode(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s
  if (!plus.includes('%')) return plus
  try {
    return decodeURIComponent(plus)
  } catch {
    return plus // a malformed escape stays as sent, as nginx leaves it
  }
}

/**
 * @example
 *   decodeArgs('a=1&b&a=2&c=x+y')   // → Map { a → ['1', '2'], b → true, c → 'x y' }
 */
export function decodeArgs(text: string): Args {
  const out: Args = new Map()
  if (text === '') return out
  for (const piece of text.split('&')) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    const name = decode(eq === -1 ? piece : piece.slice(0, eq))
    if (name === '') continue
    const value: string | true = eq === -1 ? true : decode(piece.slice(eq + 1))
    appendArg(out, name, value)
  }
  return out
}

/** Adds a value after any existing one (Kong's `append_value`). */
export function appendArg(args: Args, name: string, value: string | true): void {
  const prev = args.get(name)
  if (prev === undefined) args.set(name, value)
  else if (Array.isArray(prev)) prev.push(value)
  else args.set(name, [prev, value])
}

/**
 * @example
 *   encodeArgs(new Map([['q', 'a b'], ['flag', true], ['id', ['1', '2']]]))  // → 'q=a%20b&flag&id=1&id=2'
 */
export function encodeArgs(args: Args): string {
  const parts: string[] = []
  for (const [name, value] of args) {
    const key = encodeURIComponent(name)
    for (const v of Array.isArray(value) ? value : [value])
      parts.push(v === true ? key : `${key}=${encodeURIComponent(v)}`)
  }
  return parts.join('&')
}

/** Plain object form (arrays for repeated names), for JSON documents such as an echo. */
export function argsObject(args: Args): Record<string, ArgValue> {
  const o: Record<string, ArgValue> = {}
  for (const [k, v] of args) o[k] = v
  return o
}

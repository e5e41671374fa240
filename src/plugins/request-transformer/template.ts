/**
 * Kong's request-transformer templates: `$(…)` placeholders in a value, rendered per request from
 * the request's headers, query arguments and route captures. Kong evaluates the placeholder as
 * Lua; Portico compiles, at load, the expressions Kong's documentation uses and refuses the rest
 * with a config error (never a silent wrong value):
 *
 *   $(headers.x_user)  $(headers["X-User"])  $(query_params.page)  $(query_params["p"])
 *   $(uri_captures.id)  $(uri_captures["user-id"])
 *   $(uri_captures["user-id"] or query_params["user"] or "unknown")   -- first present value
 *   $('$(literal)')                                                   -- a quoted string: escaping
 *
 * A value that is absent renders as '' (penlight's `(expr or '')`).
 */

/** What a template reads from the request (the snapshot taken before any transformation). */
export interface TemplateEnv {
  /** lower-case name with `_` as `-` (nginx's header table lookup) */
  header(name: string): string | undefined
  query(name: string): string | undefined
  capture(name: string): string | undefined
}

export type Render = (env: TemplateEnv) => string

/** A constant (no placeholder) or a compiled renderer. */
export type TemplateValue = string | Render

type Operand =
  | { kind: 'literal'; value: string }
  | { kind: 'ref'; source: 'header' | 'query' | 'capture'; key: string }

const SOURCES: Record<string, 'header' | 'query' | 'capture'> = {
  headers: 'header',
  query_params: 'query',
  uri_captures: 'capture',
}

export class TemplateError extends Error {}

/** Splits `$(…)` placeholders; parentheses balance as Lua's `%b()` does (quotes not special). */
function placeholders(src: string): Array<{ text: string } | { expr: string }> {
  const out: Array<{ text: string } | { expr: string }> = []
  let i = 0
  let textStart = 0
  while (i < src.length) {
    const at = src.indexOf('$(', i)
    if (at === -1) break
    let depth = 0
    let end = -1
    for (let j = at + 1; j < src.length; j++) {
      const c = src.charCodeAt(j)
      if (c === 40 /* ( */) depth++
      else if (c === 41 /* ) */ && --depth === 0) {
        end = j
        break
      }
    }
    if (end === -1) break // unbalanced: Kong leaves the rest as text
    if (at > textStart) out.push({ text: src.slice(textStart, at) })
    out.push({ expr: src.slice(at + 2, end) })
    i = textStart = end + 1
  }
  if (textStart < src.length) out.push({ text: src.slice(textStart) })
  return out
}

const TOKEN = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\d+)|(\S))/y

function unquote(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c))
}

/** Parses `operand (or operand)*` where an operand is a string, a number or a source lookup. */
function parseExpression(expr: string): Operand[] {
  type Tok = { ident?: string; str?: string; num?: string; punct?: string }
  const toks: Tok[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex
    const m = TOKEN.exec(expr)
    if (m === null) {
      if (expr.slice(at).trim() === '') break
      throw new TemplateError(`cannot read '${expr.slice(at)}'`)
    }
    if (m[1] !== undefined) toks.push({ ident: m[1] })
    else if (m[2] !== undefined) toks.push({ str: unquote(m[2]) })
    else if (m[3] !== undefined) toks.push({ str: unquote(m[3]) })
    else if (m[4] !== undefined) toks.push({ num: m[4] })
    else toks.push({ punct: m[5]! })
  }
  let p = 0
  const operand = (): Operand => {
    const t = toks[p++]
    if (t === undefined) throw new TemplateError('an expression is missing')
    if (t.str !== undefined) return { kind: 'literal', value: t.str }
    if (t.num !== undefined) return { kind: 'literal', value: t.num }
    const source = t.ident === undefined ? undefined : SOURCES[t.ident]
    if (source === undefined)
      throw new TemplateError(
        `only headers, query_params and uri_captures can be used, not '${t.ident ?? t.punct}'`,
      )
    const next = toks[p++]
    let key: string | undefined
    if (next?.punct === '.' && toks[p]?.ident !== undefined) key = toks[p++]!.ident
    else if (next?.punct === '[') {
      const k = toks[p++]
      key = k?.str ?? k?.num
      if (toks[p++]?.punct !== ']') key = undefined
    }
    if (key === undefined) throw new TemplateError(`expected ${t.ident}.name or ${t.ident}["name"]`)
    if (source === 'header') key = key.toLowerCase().replace(/_/g, '-')
    return { kind: 'ref', source, key }
  }
  const operands = [operand()]
  while (p < toks.length) {
    if (toks[p++]?.ident !== 'or') throw new TemplateError("only 'or' can join values")
    operands.push(operand())
  }
  return operands
}

function evaluate(operands: Operand[], env: TemplateEnv): string {
  for (const o of operands) {
    if (o.kind === 'literal') return o.value
    const v =
      o.source === 'header' ? env.header(o.key) : o.source === 'query' ? env.query(o.key) : env.capture(o.key)
    if (v !== undefined) return v
  }
  return ''
}

/**
 * Compiles a config value: a plain string stays a string (no per-request work), a value with
 * placeholders becomes a renderer. Throws {@link TemplateError} for an expression Portico does
 * not evaluate.
 *
 * @example
 *   const r = compileTemplate('Bearer $(query_params.token)') as Render
 *   r({ header: () => undefined, query: () => 'abc', capture: () => undefined })   // → 'Bearer abc'
 */
export function compileTemplate(src: string): TemplateValue {
  if (!src.includes('$(')) return src
  const parts = placeholders(src).map((p) => ('text' in p ? p.text : parseExpression(p.expr)))
  if (parts.every((p) => typeof p === 'string')) return parts.join('')
  return (env) => {
    let out = ''
    for (const p of parts) out += typeof p === 'string' ? p : evaluate(p, env)
    return out
  }
}

/** Renders a compiled value. */
export function render(value: TemplateValue, env: TemplateEnv): string {
  return typeof value === 'string' ? value : value(env)
}

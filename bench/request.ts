import { randomUUID } from 'node:crypto'

/** Which iteration is being prepared: `i` counts every request of the run from 0, `vu` is 1-based. */
export interface IterationContext {
  i: number
  vu: number
}

/** JSON bodies: serialised once (per request when produced by a function). */
export type JsonBody = Record<string, unknown> | unknown[]

/** One request as a user describes it. */
export interface RequestSpec {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array | JsonBody
}

/**
 * What to send: a fixed spec whose url, header values and body may hold templates (`{{i}}`,
 * `{{vu}}`, `{{rand:N}}`, `{{uuid}}`), or a function building each request itself.
 */
export type RequestSource = RequestSpec | ((ctx: IterationContext) => RequestSpec)

/** A request ready for undici's `dispatch`. */
export interface PreparedRequest {
  origin: string
  path: string
  method: string
  headers: Record<string, string>
  body: string | Uint8Array | null
}

type Part = string | ((ctx: IterationContext) => string)
type Expand = (ctx: IterationContext) => string

const TEMPLATE = /\{\{\s*([a-z]+)(?::(\d+))?\s*\}\}/g

/**
 * Compiles `{{…}}` placeholders once into a list of parts, so expanding per request is a join
 * and not a regex scan. Unknown placeholders are errors: a typo would otherwise send the same
 * literal `{{vuu}}` a million times and the run would measure the wrong thing.
 *
 * @example
 *   compileTemplate('client-{{vu}}-{{rand:10}}', 'header x-client')({ i: 0, vu: 3 }) // 'client-3-7'
 */
export function compileTemplate(text: string, where: string): Expand {
  if (!text.includes('{{')) return () => text
  const parts: Part[] = []
  let last = 0
  for (const m of text.matchAll(TEMPLATE)) {
    parts.push(text.slice(last, m.index))
    last = m.index + m[0].length
    const [, name, arg] = m
    if (name === 'i' && arg === undefined) parts.push((c) => String(c.i))
    else if (name === 'vu' && arg === undefined) parts.push((c) => String(c.vu))
    else if (name === 'uuid' && arg === undefined) parts.push(() => randomUUID())
    else if (name === 'rand' && arg !== undefined && Number(arg) > 0) {
      const n = Number(arg)
      parts.push(() => String(Math.floor(Math.random() * n)))
    } else {
      throw new Error(`unknown template ${m[0]} in ${where}: use {{i}}, {{vu}}, {{rand:N}} or {{uuid}}`)
    }
  }
  parts.push(text.slice(last))
  if (parts.some((p) => typeof p === 'string' && p.includes('{{'))) {
    throw new Error(`malformed template in ${where}: ${JSON.stringify(text)}`)
  }
  return (ctx) => {
    let out = ''
    for (const p of parts) out += typeof p === 'string' ? p : p(ctx)
    return out
  }
}

function splitUrl(url: string): { origin: string; path: string } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(url)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`unsupported URL scheme ${u.protocol} in ${url}: use http or https`)
  }
  return { origin: u.origin, path: `${u.pathname}${u.search}` }
}

function isJson(body: RequestSpec['body']): body is JsonBody {
  return body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)
}

function withContentType(spec: RequestSpec): Record<string, string> {
  const headers = { ...spec.headers }
  if (isJson(spec.body) && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json'
  }
  return headers
}

function prepare(spec: RequestSpec): PreparedRequest {
  const body = spec.body === undefined ? null : isJson(spec.body) ? JSON.stringify(spec.body) : spec.body
  const method = (spec.method ?? 'GET').toUpperCase()
  return { ...splitUrl(spec.url), method, headers: withContentType(spec), body }
}

function hasTemplates(spec: RequestSpec): boolean {
  const texts = [spec.url, ...Object.values(spec.headers ?? {})]
  if (typeof spec.body === 'string') texts.push(spec.body)
  else if (isJson(spec.body)) texts.push(JSON.stringify(spec.body))
  return texts.some((t) => t.includes('{{'))
}

/**
 * Turns a {@link RequestSource} into a per-iteration factory. A fixed spec is validated now
 * (a templated one by expanding it once as a probe), so a bad URL or placeholder fails before
 * any load starts. A spec without placeholders yields the same prepared object every time.
 *
 * @example
 *   const next = compileRequest({ url: 'http://127.0.0.1:8000/users/{{i}}', headers: { 'x-client': 'c{{vu}}' } })
 *   next({ i: 4, vu: 2 }).path // '/users/4'
 */
export function compileRequest(source: RequestSource): (ctx: IterationContext) => PreparedRequest {
  if (typeof source === 'function') return (ctx) => prepare(source(ctx))
  if (!hasTemplates(source)) {
    const fixed = prepare(source)
    return () => fixed
  }
  const url = compileTemplate(source.url, 'url')
  const headers = Object.entries(withContentType(source)).map(
    ([k, v]) => [k, compileTemplate(v, `header ${k}`)] as const,
  )
  const raw = source.body
  const body =
    raw === undefined || raw instanceof Uint8Array
      ? () => raw ?? null
      : compileTemplate(typeof raw === 'string' ? raw : JSON.stringify(raw), 'body')
  const method = (source.method ?? 'GET').toUpperCase()
  const build = (ctx: IterationContext): PreparedRequest => {
    const h: Record<string, string> = {}
    for (const [k, v] of headers) h[k] = v(ctx)
    // the expanded URL is parsed per request: placeholders may sit anywhere, even in the host
    return { ...splitUrl(url(ctx)), method, headers: h, body: body(ctx) }
  }
  build({ i: 0, vu: 1 })
  return build
}

/**
 * A one-line name for the target, for summaries: `GET http://host/path` or `custom requests`.
 *
 * @example
 *   describeRequest({ url: 'http://127.0.0.1:8000/slow' }) // 'GET http://127.0.0.1:8000/slow'
 */
export function describeRequest(source: RequestSource): string {
  if (typeof source === 'function') return 'custom requests'
  return `${(source.method ?? 'GET').toUpperCase()} ${source.url}`
}

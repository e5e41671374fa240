import { hash } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import type { ProxyCacheConfig } from './schema.js'

/**
 * Separator of key components: no path, query or header value can contain a raw newline
 * (the HTTP parser refuses it), so no two different requests join to the same string.
 */
const SEP = '\n'
/** stands for an absent header (a control character no header value may contain) */
const ABSENT = '\x01'

/**
 * Request headers that frameworks read to build absolute URLs and redirects (the scheme, host
 * and port a client claims), which the upstream gets as sent: a response that reflects one
 * (a 301 to `http://`, a link to another host) must never reach a client that sent another, so
 * each present value is keyed. The published "unkeyed header" poisoning cases: X-Forwarded-*
 * (Rails, Django, Express, Spring), X-Forwarded-Scheme and X-Forwarded-SSL (Rack, nginx
 * configs), Front-End-Https and X-Url-Scheme (IIS, Rack), X-Host, X-Original-Host,
 * X-Forwarded-Server and X-HTTP-Host-Override (Symfony, Zend, Flask behind proxies), and RFC
 * 7239 Forwarded.
 */
const FORWARDED = [
  'forwarded',
  'front-end-https',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-host',
  'x-http-host-override',
  'x-original-host',
  'x-url-scheme',
]

/** sha256 hex of a string: what X-Cache-Key shows and what the stores are keyed by (Kong 3.x). */
export function sha256(text: string | Buffer): string {
  return hash('sha256', text, 'hex')
}

function headerValue(ctx: RequestContext, name: string): string {
  const v = ctx.req.headers[name]
  return v === undefined ? ABSENT : Array.isArray(v) ? v.join(',') : v
}

/**
 * The Host's part of the key: the name, and the port when the client sent one other than the
 * port it connected to. A preserve_host upstream sees that port (and every upstream sees it in
 * X-Forwarded-Host), so `Host: c.test:EVIL` must not share `c.test`'s entries; the node's own
 * port is what a Host without a port means, so nodes of one cluster still share keys.
 */
function hostKey(ctx: RequestContext): string {
  const h = ctx.req.headers.host
  if (h === undefined) return ctx.host
  const colon = h.lastIndexOf(':')
  if (colon === -1 || h.charCodeAt(h.length - 1) === 93 /* ] */) return ctx.host
  const port = h.slice(colon + 1)
  return port === String(ctx.req.socket.localPort) ? ctx.host : `${ctx.host}:${port.toLowerCase()}`
}

function paramName(pair: string): string {
  const eq = pair.indexOf('=')
  const raw = eq === -1 ? pair : pair.slice(0, eq)
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

const byName = (a: string, b: string): number => {
  const x = paramName(a)
  const y = paramName(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * The query's part of the key. All parameters (Kong's default) sorted by name, or only the
 * configured ones. The sort is stable: repeated names keep their order, so `a=1&a=2` and
 * `a=2&a=1` (which an upstream reading the first value answers differently) stay apart.
 *
 * @example
 *   queryKey('b=2&a=1', null)          // → 'a=1&b=2'
 *   queryKey('b=2&a=1&c=3', new Set(['c', 'a']))   // → 'a=1&c=3'
 */
export function queryKey(query: string, only: ReadonlySet<string> | null): string {
  if (query === '') return ''
  if (only === null && query.indexOf('&') === -1) return query
  // with a parameter list, `;` separates too: Rack, Tomcat and old PHP read `utm=x;a=evil` as
  // two parameters, and an `a` hidden behind an unkeyed one must still be keyed ("parameter cloaking")
  let pairs = (only === null ? query.split('&') : query.split(/[&;]/)).filter((p) => p !== '')
  if (only !== null) pairs = pairs.filter((p) => only.has(paramName(p)))
  return pairs.sort(byName).join('&')
}

/** Computes a request's base key (before the response's own Vary applies). */
export type KeyBuilder = (ctx: RequestContext, bodyHash: string) => string

/**
 * Compiles the key of a configuration: route, consumer (when keyed), method (HEAD shares GET's
 * entries), Host with its port, normalised path, query, the configured vary headers, any
 * forwarded header the client sent (see FORWARDED), and the body hash of a cached POST.
 *
 * @example
 *   const key = compileKey(config)
 *   key(ctx, '')   // → '3f5a…' (64 hex characters)
 */
export function compileKey(c: ProxyCacheConfig): KeyBuilder {
  const only = c.vary_query_params ? new Set(c.vary_query_params) : null
  const headers = [...new Set((c.vary_headers ?? []).map((h) => h.toLowerCase()))].sort()
  const byConsumer = c.key_includes_consumer
  const lowerPath = c.ignore_uri_case
  return (ctx, bodyHash) => {
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method
    const host = hostKey(ctx)
    let s = `${ctx.route?.id ?? ''}${SEP}${byConsumer && ctx.consumer !== null ? ctx.consumer.id : ''}${SEP}${method}${SEP}${host}${SEP}${lowerPath ? ctx.path.toLowerCase() : ctx.path}${SEP}${queryKey(ctx.query, only)}${SEP}${bodyHash}`
    for (let i = 0; i < headers.length; i++) s += `${SEP}${headers[i]}:${headerValue(ctx, headers[i]!)}`
    const h = ctx.req.headers
    for (let i = 0; i < FORWARDED.length; i++) {
      const name = FORWARDED[i]!
      if (h[name] !== undefined) s += `${SEP}${name}:${headerValue(ctx, name)}`
    }
    return sha256(s)
  }
}

/**
 * The key of one variant of a base key whose responses carry `Vary: names`. The epoch comes
 * from the base key's Vary index: purging the index orphans every variant stored under it.
 */
export function variantKey(
  ctx: RequestContext,
  base: string,
  epoch: string,
  names: readonly string[],
): string {
  let s = `${base}${SEP}${epoch}`
  for (let i = 0; i < names.length; i++) s += `${SEP}${headerValue(ctx, names[i]!)}`
  return sha256(s)
}

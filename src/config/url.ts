import type { ServiceEntity } from '../core/entities.js'
import { parseHostPort } from './hosts.js'

/** The service fields a `url` shorthand stands for. */
export interface ServiceUrlParts {
  protocol: ServiceEntity['protocol']
  host: string
  port: number
  /** absent when the URL has no path at all (`http://h`), as in Kong */
  path?: string
}

export type ServiceUrlResult = { ok: true; value: ServiceUrlParts } | { ok: false; message: string }

const PROTOCOLS: ReadonlySet<string> = new Set(['http', 'https', 'ws', 'wss'])
const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 }
// scheme "://" authority path, nothing more: a query or fragment would be silently dropped
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)([?#].*)?$/

/**
 * Expands Kong's service `url` shorthand into `protocol`, `host`, `port` and `path`. The port
 * defaults to the scheme's (80 or 443); the path is kept as written (validated with the service).
 * Shared by the declarative loader and the Admin API (`url=http://host:port/path`).
 *
 * @example
 *   parseServiceUrl('https://api.internal/v1')
 *   // → { ok: true, value: { protocol: 'https', host: 'api.internal', port: 443, path: '/v1' } }
 *   parseServiceUrl('ftp://x') // → { ok: false, message: "unsupported protocol 'ftp' …" }
 */
export function parseServiceUrl(url: string): ServiceUrlResult {
  const m = URL_SHAPE.exec(url.trim())
  if (!m) return { ok: false, message: `invalid url '${url}': expected scheme://host[:port][/path]` }
  const [, rawScheme = '', authority = '', path = '', rest] = m
  const scheme = rawScheme.toLowerCase()
  if (!PROTOCOLS.has(scheme)) {
    return { ok: false, message: `unsupported protocol '${scheme}': expected one of http, https, ws, wss` }
  }
  if (rest !== undefined) {
    return { ok: false, message: `invalid url '${url}': a query string or fragment is not allowed` }
  }
  if (authority === '') return { ok: false, message: `invalid url '${url}': missing host` }
  if (authority.includes('@')) {
    return { ok: false, message: `invalid url '${url}': credentials in the url are not supported` }
  }
  const hostPort = parseHostPort(authority)
  if (typeof hostPort === 'string') return { ok: false, message: hostPort }
  const value: ServiceUrlParts = {
    protocol: scheme as ServiceUrlParts['protocol'],
    host: hostPort.host,
    port: hostPort.port ?? (DEFAULT_PORT[scheme] as number),
  }
  if (path !== '') value.path = path
  return { ok: true, value }
}

import type { ConfigDocument, ServiceEntity } from '../../core/entities.js'

/** Kong's port for a target written without one. */
const DEFAULT_TARGET_PORT = 8000

/**
 * `host:port` as the balancer names a target: lower-case host, IPv6 in brackets, Kong's
 * default port when none is written (the address the proxy reports attempts with).
 *
 * @example
 *   address('Users-1:8080') // 'users-1:8080'
 *   address('[::1]')        // '[::1]:8000'
 */
export function address(target: string, defaultPort = DEFAULT_TARGET_PORT): string {
  let host = target.trim().toLowerCase()
  let port = defaultPort
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    const rest = host.slice(close + 1)
    host = host.slice(1, close)
    if (rest.startsWith(':')) port = Number(rest.slice(1))
  } else {
    const colon = host.lastIndexOf(':')
    if (colon >= 0 && host.indexOf(':') === colon) {
      port = Number(host.slice(colon + 1))
      host = host.slice(0, colon)
    }
  }
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * The targets a service sends to: its upstream's targets (weight above 0), or its own host and
 * port when it names no upstream.
 */
export function serviceTargets(doc: ConfigDocument, s: ServiceEntity): string[] {
  const upstream = doc.upstreams.find((u) => u.name === s.host)
  if (upstream === undefined) return [address(s.host, s.port)]
  const out = new Set<string>()
  for (const t of doc.targets) if (t.upstream.id === upstream.id && t.weight > 0) out.add(address(t.target))
  return [...out]
}

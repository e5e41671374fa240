/** How a route's `hosts` entry is matched against the request host. */
export type HostPattern =
  | { kind: 'exact'; host: string }
  /** `*.example.com`: the host ends with `.example.com` (any depth, as Kong's `=^`) */
  | { kind: 'suffix'; suffix: string }
  /** `example.*`: the host starts with `example.` */
  | { kind: 'prefix'; prefix: string }

/**
 * Parses one `hosts` entry: lower-cased, port dropped (`example.com:8080` → `example.com`; the
 * request host reaches the router without its port, so the port cannot take part in matching),
 * one leading or trailing `*` turned into a suffix or prefix test.
 *
 * @example
 *   parseRouteHost('*.Example.com:8443') // { kind: 'suffix', suffix: '.example.com' }
 */
export function parseRouteHost(raw: string): HostPattern {
  let host = raw.toLowerCase()
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end !== -1) host = host.slice(0, end + 1)
  } else {
    const colon = host.indexOf(':')
    if (colon !== -1 && /^\d+$/.test(host.slice(colon + 1))) host = host.slice(0, colon)
  }
  if (host.startsWith('*')) return { kind: 'suffix', suffix: host.slice(1) }
  if (host.endsWith('*')) return { kind: 'prefix', prefix: host.slice(0, -1) }
  return { kind: 'exact', host }
}

import { isIP, isIPv4, isIPv6 } from 'node:net'

/** A host with an optional port, as found in service hosts, route hosts and targets. */
export interface HostPort {
  /** IPv6 addresses without brackets */
  host: string
  port: number | undefined
  kind: 'name' | 'ipv4' | 'ipv6'
}

// Kong accepts `_` in labels (service discovery names such as `_http._tcp.x`), so do we.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})$/

/**
 * True for a DNS name made of 1–63 character labels (letters, digits, `-`, `_`), at most 253 long.
 *
 * @example
 *   isHostname('users.internal') // → true
 *   isHostname('10.0.0')         // → false (a mistyped address)
 */
export function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  // an all-numeric last label is a mistyped IPv4 address, not a name
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return false
  return labels.every((l) => LABEL.test(l))
}

/**
 * Parses `host`, `host:port`, `1.2.3.4:80`, `[::1]:80` or a bare IPv6 address.
 * Returns an error message when the text is neither a host name nor an IP address.
 *
 * @example
 *   parseHostPort('api.internal:8080') // → { host: 'api.internal', port: 8080, kind: 'name' }
 *   parseHostPort('[::1]')             // → { host: '::1', port: undefined, kind: 'ipv6' }
 */
export function parseHostPort(input: string): HostPort | string {
  let host = input
  let port: string | undefined
  let kind: HostPort['kind']
  if (input.startsWith('[')) {
    const end = input.indexOf(']')
    host = input.slice(1, end)
    const rest = end < 0 ? '' : input.slice(end + 1)
    if (end < 0 || !isIPv6(host) || (rest !== '' && !rest.startsWith(':'))) {
      return `invalid value '${input}': not a valid IPv6 address`
    }
    if (rest !== '') port = rest.slice(1)
    kind = 'ipv6'
  } else if (isIPv6(input)) {
    kind = 'ipv6'
  } else {
    const colon = input.lastIndexOf(':')
    if (colon >= 0) {
      host = input.slice(0, colon)
      port = input.slice(colon + 1)
    }
    kind = isIPv4(host) ? 'ipv4' : 'name'
    if (kind === 'name' && !isHostname(host)) {
      return `invalid value '${input}': not a valid hostname or IP address`
    }
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) {
    return `invalid port number in '${input}'`
  }
  return { host, port: port === undefined ? undefined : Number(port), kind }
}

/**
 * Formats a host and port back into `host:port`, bracketing IPv6 addresses.
 *
 * @example
 *   formatHostPort('::1', 8000) // → '[::1]:8000'
 */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * Validates a route `hosts` entry: a host with an optional port and at most one `*` wildcard,
 * as the leftmost (`*.example.com`) or rightmost (`example.*`) label.
 *
 * @example
 *   checkRouteHost('*.example.com') // → undefined (valid)
 *   checkRouteHost('a.*.com')       // → 'invalid wildcard: …'
 */
export function checkRouteHost(value: string): string | undefined {
  const stars = value.split('*').length - 1
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard'
  if (stars === 1 && !value.startsWith('*.') && !/\.\*(:\d+)?$/.test(value)) {
    return 'invalid wildcard: must be placed at leftmost or rightmost label'
  }
  const parsed = parseHostPort(value.replace('*', 'wildcard'))
  return typeof parsed === 'string' ? parsed.replace('wildcard', '*') : undefined
}

/**
 * True for an IPv4/IPv6 address or a CIDR range.
 *
 * @example
 *   isIpOrCidr('10.0.0.0/8') // → true
 *   isIpOrCidr('fd00::/129') // → false
 */
export function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/')
  if (slash < 0) return isIP(value) !== 0
  const ip = value.slice(0, slash)
  const bits = value.slice(slash + 1)
  const version = isIP(ip)
  if (version === 0 || !/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (version === 4 ? 32 : 128)
}

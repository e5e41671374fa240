import type { TargetHealth } from './health-state.js'
import type { Target } from './types.js'

/** Kong's default port for a target written without one. */
export const DEFAULT_TARGET_PORT = 8000

/** A target address split into its parts; `address` is the canonical `host:port` key. */
export interface TargetAddress {
  host: string
  port: number
  address: string
  /** Portico: this target's own active health check path (a registered instance's `health_path`) */
  healthPath?: string | undefined
}

/**
 * Parses Kong's `target` field: `host`, `host:port`, `1.2.3.4:80`, `[::1]:80` or a bare IPv6.
 * `host` comes back without brackets (what `net.connect` wants); `address` keeps them.
 *
 * @example
 *   parseTarget('users-1:8080') // { host: 'users-1', port: 8080, address: 'users-1:8080' }
 *   parseTarget('[::1]')        // { host: '::1', port: 8000, address: '[::1]:8000' }
 */
export function parseTarget(target: string): TargetAddress {
  let host = target.trim()
  let port = DEFAULT_TARGET_PORT
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    if (close < 0) throw new Error(`invalid target '${target}'`)
    const rest = host.slice(close + 1)
    host = host.slice(1, close)
    if (rest.startsWith(':')) port = parsePort(rest.slice(1), target)
    else if (rest !== '') throw new Error(`invalid target '${target}'`)
  } else {
    const colon = host.lastIndexOf(':')
    // More than one colon without brackets can only be a bare IPv6 address.
    if (colon >= 0 && host.indexOf(':') === colon) {
      port = parsePort(host.slice(colon + 1), target)
      host = host.slice(0, colon)
    }
  }
  if (host === '') throw new Error(`invalid target '${target}'`)
  host = host.toLowerCase()
  return { host, port, address: formatAddress(host, port) }
}

/**
 * `host:port`, with brackets around an IPv6 host so the result is also a valid URL authority.
 *
 * @example
 *   formatAddress('::1', 80) // '[::1]:80'
 */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function parsePort(text: string, target: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new Error(`invalid port in target '${target}'`)
  return port
}

/**
 * The {@link Target} a balancer hands out. Address and weight belong to this config; health and
 * in-flight count live in the shared {@link TargetHealth}, so an old runtime finishing its
 * requests and a new one starting theirs count on the same numbers.
 */
export class BalancedTarget implements Target {
  readonly host: string
  readonly port: number
  readonly address: string
  readonly weight: number
  /** position in the balancer's target list (pickers index their own arrays with it) */
  readonly index: number
  readonly state: TargetHealth

  constructor(addr: TargetAddress, weight: number, index: number, state: TargetHealth) {
    this.host = addr.host
    this.port = addr.port
    this.address = addr.address
    this.weight = weight
    this.index = index
    this.state = state
  }

  get healthy(): boolean {
    return this.state.healthy
  }

  get active(): number {
    return this.state.active
  }
}

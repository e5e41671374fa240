import { BlockList, isIP } from 'node:net'
import { canonicalHost } from './addresses.js'

/**
 * Which upstream hosts the Admin API lets services, targets and registered instances point at
 * (`PORTICO_ADMIN_ALLOWED_UPSTREAMS`: comma-separated host names, `*.suffix` wildcards, IPs and
 * CIDRs). Without a list every host is allowed except cloud metadata and link-local addresses,
 * which an Admin API user could otherwise use to make the gateway fetch credentials
 * (169.254.169.254, fd00:ec2::254); they pass only when the list names them explicitly.
 * Names are checked as written (the list is a guard for the Admin API, not a DNS firewall), but
 * an IP address is checked as the address it is, however it is spelled (see addresses.ts).
 *
 * @example
 *   const policy = UpstreamPolicy.parse('10.0.0.0/8,*.internal')
 *   policy.check('api.internal')     // → undefined (allowed)
 *   policy.check('169.254.169.254')  // → 'host 169.254.169.254 is a link-local or metadata address …'
 */
export class UpstreamPolicy {
  private constructor(
    private readonly names: ReadonlySet<string>,
    private readonly suffixes: readonly string[],
    private readonly ranges: BlockList | undefined,
    private readonly listed: boolean,
  ) {}

  static parse(spec: string | undefined): UpstreamPolicy {
    const entries = (spec ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '')
    const names = new Set<string>()
    const suffixes: string[] = []
    let ranges: BlockList | undefined
    for (const entry of entries) {
      const [ip, bits] = entry.split('/')
      const version = isIP(ip ?? '')
      if (version !== 0) {
        ranges ??= new BlockList()
        const type = version === 4 ? 'ipv4' : 'ipv6'
        if (bits === undefined) ranges.addAddress(ip as string, type)
        else {
          const prefix = Number(bits)
          if (!/^\d{1,3}$/.test(bits) || prefix > (version === 4 ? 32 : 128)) {
            throw new Error(`PORTICO_ADMIN_ALLOWED_UPSTREAMS: invalid CIDR '${entry}'`)
          }
          ranges.addSubnet(ip as string, prefix, type)
        }
      } else if (entry.startsWith('*.')) suffixes.push(entry.slice(1))
      else if (/^[a-z0-9_.-]+$/.test(entry)) names.add(entry)
      else throw new Error(`PORTICO_ADMIN_ALLOWED_UPSTREAMS: invalid entry '${entry}'`)
    }
    return new UpstreamPolicy(names, suffixes, ranges, entries.length > 0)
  }

  /** Why `host` is refused, or undefined when it is allowed. */
  check(host: string): string | undefined {
    // every IPv4 spelling (`0xa9fea9fe`, `127.1`) and IPv4-carrying IPv6 checked as the address it is
    const h = canonicalHost(host)
    const version = isIP(h)
    const type = version === 6 ? 'ipv6' : 'ipv4'
    const explicit =
      this.names.has(h) ||
      (version === 0 && this.suffixes.some((s) => h.endsWith(s))) ||
      (version !== 0 && this.ranges?.check(h, type) === true)
    if (explicit) return undefined
    if (isSensitive(h, version)) {
      return `host ${host} is a link-local or metadata address: list it in PORTICO_ADMIN_ALLOWED_UPSTREAMS to allow it`
    }
    if (this.listed) return `host ${host} is not in the allowed upstreams (PORTICO_ADMIN_ALLOWED_UPSTREAMS)`
    return undefined
  }
}

const SENSITIVE = new BlockList()
SENSITIVE.addSubnet('169.254.0.0', 16, 'ipv4') // link-local, AWS/GCP/Azure metadata
SENSITIVE.addSubnet('fe80::', 10, 'ipv6') // link-local
SENSITIVE.addAddress('fd00:ec2::254', 'ipv6') // AWS metadata over IPv6
const SENSITIVE_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data'])

function isSensitive(host: string, version: number): boolean {
  if (version === 0) return SENSITIVE_NAMES.has(host)
  return SENSITIVE.check(host, version === 6 ? 'ipv6' : 'ipv4')
}

import { BlockList, isIP } from 'node:net'

/**
 * Which peers may tell us the client's address (`PORTICO_TRUSTED_IPS`, Kong's `trusted_ips`):
 * a comma list of addresses and CIDRs, or `0.0.0.0/0,::/0` to trust everyone.
 *
 * @example
 *   const trust = TrustedProxies.parse('10.0.0.0/8,127.0.0.1')
 *   trust.clientIp('127.0.0.1', '203.0.113.9, 10.1.2.3')   // '203.0.113.9'
 */
export class TrustedProxies {
  readonly #list = new BlockList()
  readonly empty: boolean

  private constructor(entries: string[]) {
    for (const e of entries) {
      const [addr, bits] = e.split('/')
      const type = isIP(addr ?? '') === 6 ? 'ipv6' : 'ipv4'
      if (isIP(addr ?? '') === 0) throw new Error(`trusted ips: '${e}' is not an address or CIDR`)
      if (bits === undefined) this.#list.addAddress(addr!, type)
      else this.#list.addSubnet(addr!, Number(bits), type)
    }
    this.empty = entries.length === 0
  }

  static parse(spec: string | undefined): TrustedProxies {
    const entries = (spec ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    return new TrustedProxies(entries)
  }

  trusts(addr: string): boolean {
    if (this.empty || addr === '') return false
    const type = addr.includes(':') ? 'ipv6' : 'ipv4'
    return this.#list.check(addr, type)
  }

  /**
   * The real client: the peer itself unless it is trusted, then the right-most address of
   * X-Forwarded-For that is not a trusted proxy (nginx's `real_ip_recursive on`).
   */
  clientIp(peer: string, xff: string | undefined): string {
    if (xff === undefined || !this.trusts(peer)) return peer
    const hops = xff.split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const h = hops[i]!.trim()
      if (isIP(h) === 0) return peer
      if (!this.trusts(h)) return h
    }
    return hops[0]!.trim()
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: IPv4 peers on a dual-stack socket look like IPv4. */
export function plainAddress(addr: string | undefined): string {
  if (addr === undefined) return ''
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}

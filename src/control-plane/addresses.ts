import { isIP } from 'node:net'

/**
 * One spelling per address, so an address check cannot be walked around by writing the same
 * address another way. The resolver (getaddrinfo, inet_aton) accepts `0xa9fea9fe`,
 * `0xa9.0xfe.0xa9.0xfe`, `0251.0376.0251.0376`, `2852039166` and `169.254.43518` for
 * 169.254.169.254, and `127.1` for 127.0.0.1; the WHATWG URL parser reads IPv4 hosts with the
 * same rules, so it does the parsing here. IPv6 addresses that carry an IPv4 address
 * (`::ffff:a9fe:a9fe` mapped, `::a9fe:a9fe` compatible, `64:ff9b::a9fe:a9fe` NAT64) are
 * reduced to that IPv4 address, which is where a connection to them ends up.
 *
 * @example
 *   canonicalHost('0xa9.0xfe.0xa9.0xfe') // '169.254.169.254'
 *   canonicalHost('[::ffff:7f00:1]')     // '127.0.0.1'
 *   canonicalHost('Metadata.')           // 'metadata'
 */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  if (isIP(h) === 6) return embeddedIpv4(h) ?? h
  if (h.endsWith('.')) h = h.slice(0, -1)
  // only names made of digits, hex digits, `x` and dots can be IPv4 spellings: skip the URL parse
  if (!/^[0-9a-fx.]+$/.test(h)) return h
  try {
    const parsed = new URL(`http://${h}/`).hostname
    return isIP(parsed) === 4 ? parsed : h
  } catch {
    return h
  }
}

/** The 8 groups of an IPv6 address (already valid per `isIP`), as numbers. */
function groups(v6: string): number[] {
  // a dotted IPv4 tail (`::ffff:1.2.3.4`) is two groups written another way
  const text = v6.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) => {
    const hex = (hi: string, lo: string) => ((Number(hi) << 8) | Number(lo)).toString(16)
    return `${hex(a, b)}:${hex(c, d)}`
  })
  const [head, rest] = text.split('::') as [string, string | undefined]
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)))
  const left = parse(head)
  const right = rest === undefined ? [] : parse(rest)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

function embeddedIpv4(v6: string): string | undefined {
  const g = groups(v6.replace(/%.*$/, ''))
  if (g.length !== 8) return undefined
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  const mapped = zero(0, 5) && g[5] === 0xffff
  const compatible = zero(0, 6) && (g[6] !== 0 || g[7]! > 1) // not :: or ::1
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)
  if (!mapped && !compatible && !nat64) return undefined
  return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`
}

import { BlockList, isIP } from 'node:net'
import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { PluginDefinition } from '../../core/plugin.js'
import { type Config, schema } from './schema.js'

/** One BlockList per list, built at load: a request costs one `check`, whatever the list size. */
function compile(entries: readonly string[] | undefined): BlockList | null {
  if (entries === undefined || entries.length === 0) return null
  const list = new BlockList()
  for (const e of entries) {
    const slash = e.indexOf('/')
    const addr = slash === -1 ? e : e.slice(0, slash)
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4'
    if (slash === -1) list.addAddress(addr, type)
    else list.addSubnet(addr, Number(e.slice(slash + 1)), type)
  }
  return list
}

/**
 * Kong's `ip-restriction` (priority 990): refuses clients by address. `deny` is checked first,
 * then `allow` (a client outside a non-empty `allow` is refused). The address is
 * `ctx.clientIp`: the peer, or the X-Forwarded-For client when the peer is a trusted proxy
 * (`PORTICO_TRUSTED_IPS`), so a spoofed X-Forwarded-For from anyone else changes nothing.
 *
 * @example
 *   plugins:
 *     - name: ip-restriction
 *       config: { deny: [203.0.113.0/24], status: 403 }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'ip-restriction',
  priority: 990,
  schema,
  create(config) {
    const deny = compile(config.deny)
    const allow = compile(config.allow)
    const status = config.status ?? 403
    const message = config.message
    const refuse = (ctx: RequestContext, ip: string) =>
      reply(ctx, 'IP_FORBIDDEN', { status, message: message ?? `IP address not allowed: ${ip}` })
    return {
      access(ctx) {
        const ip = ctx.clientIp
        if (ip === '') {
          return reply(ctx, 'IP_FORBIDDEN', {
            message: 'Cannot identify the client IP address, unix domain sockets are not supported.',
          })
        }
        // clientIp is a validated address (the peer, or a checked X-Forwarded-For hop)
        const family = ip.includes(':') ? 'ipv6' : 'ipv4'
        if (deny?.check(ip, family)) return refuse(ctx, ip)
        if (allow !== null && !allow.check(ip, family)) return refuse(ctx, ip)
        return undefined
      },
    }
  },
}

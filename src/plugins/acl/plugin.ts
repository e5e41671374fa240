import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { PluginDefinition, PluginEnv } from '../../core/plugin.js'
import { type AclConfig, schema } from './schema.js'

const CONSUMER_GROUPS = 'x-consumer-groups'
const AUTHENTICATED_GROUPS = 'x-authenticated-groups'
/** a consumer's outcome: refused, or allowed with this X-Consumer-Groups value */
const BLOCKED = true

/**
 * Decides once per consumer, at config load, what the plugin does for it: the request path is
 * one Map lookup. Kong caches the same decision per consumer-groups table on first use.
 */
function compile(config: AclConfig, env: PluginEnv): Map<string, string | typeof BLOCKED> {
  const groupsOf = new Map<string, string[]>()
  for (const a of env.document.acls) {
    const list = groupsOf.get(a.consumer.id)
    if (list === undefined) groupsOf.set(a.consumer.id, [a.group])
    else list.push(a.group)
  }
  const deny = config.deny !== undefined
  const listed = new Set(config.deny ?? config.allow)
  const out = new Map<string, string | typeof BLOCKED>()
  for (const [consumer, groups] of groupsOf) {
    const member = groups.some((g) => listed.has(g))
    out.set(consumer, member === deny ? BLOCKED : groups.join(', '))
  }
  return out
}

function create(config: AclConfig, env: PluginEnv) {
  const decisions = compile(config, env)
  const deny = config.deny !== undefined
  const hide = config.hide_groups_header
  return {
    access(ctx: RequestContext) {
      // an upstream must only ever see the groups Portico vouches for
      if (ctx.req.headers[AUTHENTICATED_GROUPS] !== undefined) ctx.removeUpstreamHeader(AUTHENTICATED_GROUPS)
      const consumer = ctx.consumer
      if (consumer === null) return reply(ctx, 'UNAUTHORIZED')
      let d = decisions.get(consumer.id)
      if (d === undefined) {
        // a consumer in no group: nothing to deny; an allow list it cannot be on
        if (!deny) return ctx.credential !== null ? reply(ctx, 'FORBIDDEN') : reply(ctx, 'UNAUTHORIZED')
        d = ''
      }
      if (d === BLOCKED) return reply(ctx, 'FORBIDDEN')
      if (hide) {
        if (ctx.req.headers[CONSUMER_GROUPS] !== undefined) ctx.removeUpstreamHeader(CONSUMER_GROUPS)
      } else ctx.setUpstreamHeader(CONSUMER_GROUPS, d)
      return undefined
    },
  }
}

/**
 * acl (Kong priority 950): allows or denies consumers by group, after an auth plugin identified
 * them. Not identified → 401 `Unauthorized`; identified but not allowed → 403 `You cannot consume
 * this service` (an anonymous consumer in no group gets 401, as in Kong 3.x). Allowed requests
 * carry `X-Consumer-Groups` upstream unless `hide_groups_header`.
 *
 * @example
 *   plugins: [{ name: key-auth }, { name: acl, config: { allow: [admins] } }]
 */
export const plugin: PluginDefinition<AclConfig> = {
  name: 'acl',
  priority: 950,
  schema,
  noConsumer: true,
  create,
}

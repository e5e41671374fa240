import type { RequestContext } from '../../core/context.js'
import type { PluginDefinition, PluginInstance } from '../../core/plugin.js'
import { isFlatOrigin, OriginMatcher } from './origins.js'
import { type Config, schema } from './schema.js'

type Headers = Record<string, string | string[]>

const ACAO = 'access-control-allow-origin'
const ACAC = 'access-control-allow-credentials'
const VARY_HAS_ORIGIN = /(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i

/** Adds `Origin` to Vary, keeping what the upstream put there. */
function addVaryOrigin(h: Headers): void {
  const v = h.vary
  if (v === undefined) {
    h.vary = 'Origin'
    return
  }
  const s = Array.isArray(v) ? v.join(', ') : v
  if (!VARY_HAS_ORIGIN.test(s)) h.vary = s === '' ? 'Origin' : `${s}, Origin`
}

/** A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
function isPreflight(ctx: RequestContext): boolean {
  if (ctx.method !== 'OPTIONS') return false
  const h = ctx.req.headers
  return h.origin !== undefined && h['access-control-request-method'] !== undefined
}

/**
 * Kong's `cors` (priority 2000). A preflight is answered 200 by the plugin with
 * Access-Control-Allow-Origin/-Methods/-Headers/-Max-Age/-Credentials (and -Private-Network when
 * asked for and enabled), unless `preflight_continue` sends it upstream untouched. Actual
 * requests get Access-Control-Allow-Origin, -Credentials and -Expose-Headers in the response
 * phase, plugin replies (a 401, a 429) included, as in Kong. `Vary: Origin` is added whenever
 * the answer depends on the origin. Origins are compiled once (exact ones normalised, regexes
 * anchored). The route must accept OPTIONS for a preflight to reach the plugin.
 *
 * @example
 *   plugins:
 *     - name: cors
 *       config: { origins: [https://app.example.com], credentials: true, max_age: 3600 }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'cors',
  priority: 2000,
  schema,
  noConsumer: true,
  create(config): PluginInstance {
    const origins = config.origins ?? []
    const allowAll = origins.length === 0 || origins.includes('*')
    const single = !allowAll && origins.length === 1 && isFlatOrigin(origins[0]!) ? origins[0]! : null
    const matcher = allowAll || single !== null ? null : new OriginMatcher(origins)
    const credentials = config.credentials
    const allowHeaders =
      config.headers !== undefined && config.headers.length > 0 ? config.headers.join(',') : null
    const methods = config.methods.join(',')
    const maxAge = config.max_age === undefined ? null : String(config.max_age)
    const exposed =
      config.exposed_headers !== undefined && config.exposed_headers.length > 0
        ? config.exposed_headers.join(',')
        : null
    const privateNetwork = config.private_network
    const absentOk = config.allow_origin_absent

    /** Kong's configure_origin + configure_credentials on one header set. */
    const allowOrigin = (ctx: RequestContext, h: Headers): void => {
      const requestOrigin = ctx.req.headers.origin
      if (allowAll) {
        h[ACAO] = '*'
        // credentials cannot go with `*`: echo the origin instead
        if (credentials && requestOrigin !== undefined) {
          h[ACAO] = requestOrigin
          h[ACAC] = 'true'
          addVaryOrigin(h)
        }
        return
      }
      addVaryOrigin(h)
      if (single !== null) h[ACAO] = single
      else {
        const allowed = requestOrigin === undefined ? null : matcher!.match(requestOrigin)
        if (allowed !== null) h[ACAO] = allowed
        else delete h[ACAO]
      }
      if (credentials) h[ACAC] = 'true'
    }

    return {
      access(ctx) {
        if (!isPreflight(ctx) || config.preflight_continue) return undefined
        const req = ctx.req.headers
        const headers: Headers = {}
        allowOrigin(ctx, headers)
        const requested = req['access-control-request-headers']
        if (allowHeaders !== null) headers['access-control-allow-headers'] = allowHeaders
        else if (requested !== undefined) headers['access-control-allow-headers'] = requested
        headers['access-control-allow-methods'] = methods
        if (maxAge !== null) headers['access-control-max-age'] = maxAge
        if (privateNetwork && req['access-control-request-private-network'] === 'true')
          headers['access-control-allow-private-network'] = 'true'
        return { status: 200, headers }
      },
      response(ctx, head) {
        // a preflight was answered above with its own headers, or belongs to the upstream
        if (isPreflight(ctx)) return
        if (!absentOk && ctx.req.headers.origin === undefined) return
        allowOrigin(ctx, head.headers)
        if (exposed !== null) head.headers['access-control-expose-headers'] = exposed
      },
    }
  },
}

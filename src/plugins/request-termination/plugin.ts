import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { PluginDefinition, PluginInstance, Reply } from '../../core/plugin.js'
import { readBody } from '../kit/body.js'
import { argsObject, decodeArgs } from '../kit/transform/args.js'
import { type Config, schema } from './schema.js'

/** Kong's default messages for the statuses it knows (others get no body). */
const DEFAULT_MESSAGE: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
}

/** Stands for Kong's node id in an echo: one per process, like a Kong node. */
const NODE_ID = randomUUID()

/**
 * `kong.request.get_body()`: JSON or a form, parsed; anything else (or a bad document) is
 * undefined, which leaves `body` out of the echo as Kong's nil does.
 */
function parsedBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0 || contentType === undefined) return undefined
  const type = contentType.toLowerCase()
  try {
    if (type.includes('application/json')) return JSON.parse(raw.toString('utf8'))
    if (type.includes('application/x-www-form-urlencoded'))
      return argsObject(decodeArgs(raw.toString('utf8')))
  } catch {
    return undefined
  }
  return undefined
}

/** The trigger is a header (any case) or a query argument (exact name), as in Kong. */
function hasTrigger(ctx: RequestContext, name: string, query: Map<string, unknown>): boolean {
  return ctx.header(name.toLowerCase()) !== undefined || query.has(name)
}

/**
 * Kong's `request-termination` (priority 2): answers every request of its scope with a fixed
 * response (`{"message"}`, a raw `body`, or an `echo` of the request), optionally only those
 * carrying the `trigger` header or query argument. The reply is built once, at load; only an
 * echo (which reads the body) works per request.
 *
 * @example
 *   plugins:
 *     - name: request-termination
 *       route: maintenance
 *       config: { status_code: 503, message: 'Back soon' }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'request-termination',
  priority: 2,
  schema,
  create(config, env): PluginInstance {
    const status = config.status_code
    const message = config.message ?? DEFAULT_MESSAGE[status]
    const trigger = config.trigger
    // Kong's `kong.response.exit`: the raw body with its type, `{"message"}`, or nothing
    const fixed: Reply =
      config.body !== undefined
        ? reply(null, 'TERMINATED', {
            status,
            headers: config.content_type === undefined ? undefined : { 'content-type': config.content_type },
            body: config.body,
          })
        : reply(null, 'TERMINATED', { status, body: message === undefined ? null : { message } })

    if (!config.echo) {
      return {
        access(ctx) {
          if (trigger !== undefined && !hasTrigger(ctx, trigger, decodeArgs(ctx.query))) return undefined
          return fixed
        },
      }
    }

    const routes = new Map(env.document.routes.map((r) => [r.id, r]))
    const services = new Map(env.document.services.map((s) => [s.id, s]))
    const host = hostname()
    return {
      async access(ctx) {
        const query = decodeArgs(ctx.query)
        if (trigger !== undefined && !hasTrigger(ctx, trigger, query)) return undefined
        const raw = await readBody(ctx)
        const socket = ctx.req.socket
        return reply(ctx, 'TERMINATED', {
          status,
          body: {
            message,
            kong: { node_id: NODE_ID, worker_pid: process.pid, hostname: host },
            request: {
              scheme: 'encrypted' in socket && socket.encrypted ? 'https' : 'http',
              host: ctx.host,
              port: socket.localPort ?? null,
              headers: ctx.req.headers,
              query: argsObject(query),
              body: parsedBody(raw, ctx.req.headers['content-type']),
              raw_body: raw.toString('utf8'),
              method: ctx.method,
              path: ctx.path,
              // Kong's `get_uri_captures`: the numbered captures (named groups have a number
              // too) and the named ones of a regex path
              uri_captures: { unnamed: ctx.positionalCaptures ?? [], named: ctx.captures ?? {} },
            },
            // Lua's nil: absent from Kong's JSON, not null
            matched_route: ctx.route === null ? undefined : routes.get(ctx.route.id),
            matched_service: ctx.service === null ? undefined : services.get(ctx.service.id),
          },
        })
      },
    }
  },
}

import { reply } from '../../core/errors.js'
import type { PluginDefinition } from '../../core/plugin.js'
import { type Config, schema } from './schema.js'

const UNIT = { bytes: 1, kilobytes: 1024, megabytes: 1024 * 1024 } as const

/**
 * Kong's `request-size-limiting` (priority 951). A Content-Length over the limit is refused with
 * 413 (417 when the client sent `Expect: 100-continue`) before any byte of the body is read. A
 * body without Content-Length (chunked) is not buffered as Kong does: the limit goes into
 * `ctx.maxBody`, and the proxy cuts the stream with 413 the moment it passes it (as does any
 * plugin that reads the body, such as request-transformer).
 *
 * @example
 *   plugins:
 *     - name: request-size-limiting
 *       config: { allowed_payload_size: 8, size_unit: kilobytes }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'request-size-limiting',
  priority: 951,
  schema,
  create(config) {
    const limit = config.allowed_payload_size * UNIT[config.size_unit]
    const requireLength = config.require_content_length
    return {
      access(ctx) {
        const headers = ctx.req.headers
        const cl = headers['content-length']
        const length = cl === undefined ? Number.NaN : Number(cl)
        if (!Number.isNaN(length)) {
          if (length <= limit) return undefined
          // the body stays unread: this connection cannot be reused
          ctx.res.shouldKeepAlive = false
          const expect = headers.expect
          const continues = expect !== undefined && expect.trim().toLowerCase() === '100-continue'
          return reply(ctx, continues ? 'EXPECTATION_FAILED' : 'BODY_TOO_LARGE')
        }
        if (requireLength && headers['transfer-encoding'] !== 'chunked') return reply(ctx, 'LENGTH_REQUIRED')
        if (limit === 0) {
          // ctx.maxBody 0 means "no limit": a zero limit refuses any body outright
          if (headers['transfer-encoding'] === undefined) return undefined
          ctx.res.shouldKeepAlive = false
          return reply(ctx, 'BODY_TOO_LARGE')
        }
        // 0 means no limit on the node: any plugin limit is lower
        if (ctx.maxBody === 0 || limit < ctx.maxBody) ctx.maxBody = limit
        return undefined
      },
    }
  },
}

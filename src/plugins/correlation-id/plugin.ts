import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { RequestContext } from '../../core/context.js'
import type { PluginDefinition, PluginInstance } from '../../core/plugin.js'
import { slot } from '../../core/slot.js'
import { type Config, schema } from './schema.js'

const NAME = 'correlation-id'
/** the id this plugin generated for the request, to echo in the response */
const ECHO = slot<string | undefined>('correlation-id.generated', undefined)

// Kong keeps the uuid#counter state per worker; a Portico process is one worker. It lives in the
// module, not on an instance, so a config reload does not restart the counter.
const PROCESS_UUID = randomUUID()
let counter = 0

/** `tracker` needs nginx's connection serial and per-connection request count. */
interface ConnectionInfo {
  serial: number
  requests: number
}
const connections = new WeakMap<Socket, ConnectionInfo>()
let connectionSerial = 0

function tracker(ctx: RequestContext): string {
  const socket = ctx.req.socket
  let info = connections.get(socket)
  if (info === undefined) {
    info = { serial: ++connectionSerial, requests: 0 }
    connections.set(socket, info)
  }
  info.requests++
  const now = (Date.now() / 1000).toFixed(3)
  return `${socket.localAddress ?? ''}-${socket.localPort ?? ''}-${process.pid}-${info.serial}-${info.requests}-${now}`
}

const GENERATORS: Record<Config['generator'], (ctx: RequestContext) => string> = {
  uuid: () => randomUUID(),
  'uuid#counter': () => `${PROCESS_UUID}#${++counter}`,
  tracker,
}

/**
 * Kong's `correlation-id` (priority 100001): keeps the client's id or makes one, sends it
 * upstream in `header_name` and, with `echo_downstream`, back to the client. Without echo the
 * instance has no response handler, so the proxy keeps its fast path (no header object built).
 * With `header_name: X-Request-ID` the id also becomes the request id the gateway reports
 * (the gateway owns that header upstream and downstream).
 *
 * @example
 *   plugins:
 *     - name: correlation-id
 *       config: { header_name: X-Correlation-ID, generator: uuid, echo_downstream: true }
 */
export const plugin: PluginDefinition<Config> = {
  name: NAME,
  priority: 100001,
  schema,
  create(config): PluginInstance {
    const header = config.header_name.toLowerCase()
    const generate = GENERATORS[config.generator]
    const isRequestId = header === 'x-request-id'
    const echo = config.echo_downstream
    const instance: PluginInstance = {
      access(ctx) {
        let id = ctx.header(header)
        if (id === undefined || id === '') {
          id = generate(ctx)
          if (!isRequestId) ctx.setUpstreamHeader(header, id)
        }
        if (isRequestId) ctx.id = id
        // kept for the echo: a later plugin may rename or remove the upstream header
        if (echo) ctx.set(ECHO, id)
        return undefined
      },
    }
    if (echo) {
      instance.response = (ctx, head) => {
        const id = ctx.get(ECHO) ?? ctx.header(header)
        head.headers[header] = id === undefined || id === '' ? generate(ctx) : id
      }
    }
    return instance
  },
}

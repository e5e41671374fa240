import type { Socket } from 'node:net'
import type { RequestContext } from '../core/context.js'
import type { RequestFacts } from '../core/telemetry.js'

export type { RequestFacts }

// Per-connection byte counters seen at the end of the previous request on that connection.
// Symbol properties on the socket: set once per connection, no map lookup per request.
const kRead = Symbol('portico.bytesRead')
const kWritten = Symbol('portico.bytesWritten')
type CountedSocket = Socket & { [kRead]?: number; [kWritten]?: number }

const facts: RequestFacts = {
  requestMs: 0,
  upstreamMs: Number.NaN,
  gatewayMs: 0,
  bytesIn: 0,
  bytesOut: 0,
  source: 'kong',
  consumer: '',
}
let measured: RequestContext | null = null

/**
 * Measures a finished request. Observers run one after the other, synchronously, for the same
 * request: the first call measures (the socket byte counters are read as deltas, so they must
 * be read once), later calls for the same context get the same answer. One object reused for
 * every request: no allocation; callers must not keep it.
 *
 * @example
 *   const f = measure(ctx, performance.now())
 *   histogram.observe(f.requestMs)
 */
export function measure(ctx: RequestContext, now: number): RequestFacts {
  if (measured === ctx) return facts
  measured = ctx
  facts.requestMs = now - ctx.start
  const up = ctx.upstreamStart
  const headersAt = ctx.upstreamHeadersAt
  facts.upstreamMs = headersAt - up // NaN unless both happened
  facts.gatewayMs = Number.isNaN(up) ? facts.requestMs : up - ctx.start
  facts.source = Number.isNaN(headersAt) ? 'kong' : 'service'
  const c = ctx.consumer
  facts.consumer = c === null ? '' : (c.username ?? c.custom_id ?? c.id)
  const socket = ctx.req.socket as CountedSocket | null
  if (socket === null) {
    facts.bytesIn = 0
    facts.bytesOut = 0
  } else {
    const read = socket.bytesRead
    const written = socket.bytesWritten
    facts.bytesIn = read - (socket[kRead] ?? 0)
    facts.bytesOut = written - (socket[kWritten] ?? 0)
    socket[kRead] = read
    socket[kWritten] = written
  }
  return facts
}

import { request } from 'undici'
import type { RequestContext } from '../core/context.js'
import type { Logger } from '../core/logger.js'
import type { RequestFacts } from './facts.js'
import { newSpanId, newTraceId, parseTraceparent } from './trace.js'

/** What the exporter keeps of a finished request until its batch is sent (no ctx retained). */
interface Finished {
  traceparent: string
  incoming: string | undefined
  method: string
  path: string
  route: string
  service: string
  status: number
  consumer: string
  clientIp: string
  requestId: string
  target: string
  start: number
  upstreamStart: number
  end: number
}

export interface OtlpOptions {
  /** `PORTICO_OTLP_ENDPOINT`: a collector base URL (`/v1/traces` is appended) or the full traces URL */
  endpoint: string
  serviceName?: string
  version?: string
  /** spans waiting beyond this are dropped (and counted): a dead collector costs bounded memory */
  maxPending?: number
  /** requests per POST */
  batchSize?: number
  /** a partial batch is sent after this long */
  intervalMs?: number
  log: Logger
}

type Attr = { key: string; value: { stringValue: string } | { intValue: string } }
const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } })
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } })
/** performance.now() milliseconds → Unix nanoseconds as OTLP/JSON wants them (a decimal string) */
const nanos = (perfMs: number): string => String(BigInt(Math.round((performance.timeOrigin + perfMs) * 1e6)))

/**
 * Sends one server span per request (and a client span for its upstream hop, whose id is the
 * parent the upstream saw in `traceparent`) to an OpenTelemetry collector as OTLP/HTTP JSON.
 * The request path only appends a small record to a bounded backlog; batches are built and
 * POSTed with undici from a timer, one POST at a time. No OpenTelemetry SDK.
 *
 * @example
 *   const otlp = new OtlpExporter({ endpoint: 'http://collector:4318', log })
 *   gateway.observers.push((ctx) => otlp.add(ctx, measure(ctx, performance.now())))
 *   await otlp.close()   // sends what is pending
 */
export class OtlpExporter {
  readonly url: string
  readonly #pending: Finished[] = []
  readonly #max: number
  readonly #batch: number
  readonly #timer: NodeJS.Timeout
  readonly #resource: { attributes: Attr[] }
  readonly #scope: { name: string; version: string }
  readonly #log: Logger
  #sending: Promise<void> | null = null
  #soon = false
  /** requests whose spans were dropped: the backlog was full, or their POST failed */
  dropped = 0
  /** requests whose spans the collector accepted */
  exported = 0

  constructor(opts: OtlpOptions) {
    const base = opts.endpoint.replace(/\/+$/, '')
    this.url = base.endsWith('/v1/traces') ? base : `${base}/v1/traces`
    this.#max = opts.maxPending ?? 4096
    this.#batch = opts.batchSize ?? 512
    this.#log = opts.log
    this.#resource = { attributes: [str('service.name', opts.serviceName ?? 'portico')] }
    this.#scope = { name: 'portico', version: opts.version ?? '' }
    this.#timer = setInterval(() => void this.flush(), opts.intervalMs ?? 1000)
    this.#timer.unref()
  }

  add(ctx: RequestContext, f: RequestFacts): void {
    if (this.#pending.length >= this.#max) {
      this.dropped++
      return
    }
    this.#pending.push({
      traceparent: ctx.traceparent,
      incoming: ctx.req.headers.traceparent as string | undefined,
      method: ctx.method,
      path: ctx.path,
      route: ctx.route === null ? '' : (ctx.route.name ?? ctx.route.id),
      service: ctx.service === null ? '' : (ctx.service.name ?? ctx.service.id),
      status: ctx.status,
      consumer: f.consumer,
      clientIp: ctx.clientIp,
      requestId: ctx.id,
      target: ctx.target,
      start: ctx.start,
      upstreamStart: ctx.upstreamStart,
      end: ctx.start + f.requestMs,
    })
    if (this.#pending.length >= this.#batch && !this.#soon) {
      this.#soon = true
      setImmediate(() => {
        this.#soon = false
        void this.flush()
      })
    }
  }

  /** Sends pending spans, a batch at a time; resolves when the backlog is empty or a POST failed. */
  flush(): Promise<void> {
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = null
    })
    return this.#sending
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#batch)
      const body = JSON.stringify({
        resourceSpans: [
          { resource: this.#resource, scopeSpans: [{ scope: this.#scope, spans: batch.flatMap(spans) }] },
        ],
      })
      try {
        const res = await request(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        })
        await res.body.dump()
        if (res.statusCode >= 300) throw new Error(`collector answered ${res.statusCode}`)
        this.exported += batch.length
      } catch (err) {
        this.dropped += batch.length
        this.#log.warn({ err, url: this.url, spans: batch.length }, 'OTLP export failed; spans dropped')
        return
      }
    }
  }

  /** Stops the timer and sends what is pending. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}

/** The spans of one request: the gateway's server span, and the upstream hop's client span if any. */
function spans(r: Finished): object[] {
  const sent = parseTraceparent(r.traceparent === '' ? undefined : r.traceparent)
  const caller = parseTraceparent(r.incoming)
  // the caller's span is the parent when the request continued the caller's trace
  const incoming = caller !== null && (sent === null || sent.traceId === caller.traceId) ? caller : null
  const traceId = sent?.traceId ?? incoming?.traceId ?? newTraceId()
  const serverId = newSpanId()
  const attributes = [
    str('http.request.method', r.method),
    str('url.path', r.path),
    int('http.response.status_code', r.status),
    str('client.address', r.clientIp),
    str('portico.request_id', r.requestId),
  ]
  if (r.route !== '') attributes.push(str('http.route', r.route))
  if (r.service !== '') attributes.push(str('portico.service', r.service))
  if (r.consumer !== '') attributes.push(str('enduser.id', r.consumer))
  const server = {
    traceId,
    spanId: serverId,
    // a span continuing the caller's trace names the caller's span as parent
    ...(incoming !== null ? { parentSpanId: incoming.parentId } : {}),
    name: r.route === '' ? r.method : `${r.method} ${r.route}`,
    kind: 2, // SPAN_KIND_SERVER
    startTimeUnixNano: nanos(r.start),
    endTimeUnixNano: nanos(r.end),
    attributes,
    status: { code: r.status >= 500 ? 2 : 0 }, // STATUS_CODE_ERROR for server errors only
  }
  if (sent === null) return [server]
  const [host, port] = splitTarget(r.target)
  const upstream = {
    traceId,
    spanId: sent.parentId,
    parentSpanId: serverId,
    name: `${r.method} upstream`,
    kind: 3, // SPAN_KIND_CLIENT
    startTimeUnixNano: nanos(Number.isNaN(r.upstreamStart) ? r.start : r.upstreamStart),
    endTimeUnixNano: nanos(r.end),
    attributes: [str('http.request.method', r.method), str('server.address', host), int('server.port', port)],
    status: { code: 0 },
  }
  return [server, upstream]
}

function splitTarget(t: string): [string, number] {
  const at = t.lastIndexOf(':')
  return at === -1 ? [t, 0] : [t.slice(0, at), Number(t.slice(at + 1))]
}

import { type DestinationStream, pino } from 'pino'
import type { RequestContext } from '../core/context.js'
import type { Logger as NodeLogger } from '../core/logger.js'
import type { RequestFacts } from './facts.js'
import type { Outcome } from './totals.js'
import { parseTraceparent } from './trace.js'

/** `PORTICO_ACCESS_LOG`: `off` (the default), `stdout`, or a file path (appended, created with its directory). */
export type AccessLogTarget = 'off' | 'stdout' | (string & {})

/** Lines wait in memory up to this many bytes before a write (one syscall per ~20 requests)… */
const BATCH_BYTES = 4096
/** …or this long, so a quiet gateway still writes its lines out */
const FLUSH_EVERY_MS = 1000
/** a disk that stops taking writes costs at most this much memory; lines beyond are dropped and counted */
const MAX_BUFFER_BYTES = 16 * 1024 * 1024

/**
 * The line's `time`, rendered once per second: `toISOString` costs ~0.3 µs and allocates a Date;
 * within a second only the milliseconds change, and those come from a table of 1000 strings.
 */
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`)
let second = -1
let secondPrefix = ''
export function isoNow(now: number): string {
  const s = Math.floor(now / 1000)
  if (s !== second) {
    second = s
    secondPrefix = new Date(s * 1000).toISOString().slice(0, 20)
  }
  return secondPrefix + MILLIS[now - s * 1000]!
}

const ms = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null)
/** a JSON string, or null for '' (the line's fixed shape: absent values are null, never missing) */
const strOrNull = (s: string): string => (s === '' ? 'null' : JSON.stringify(s))

/**
 * The access log: one JSON line per request, written through pino to an asynchronous
 * destination (sonic-boom with a buffer), so the request path only formats a line and appends
 * it to memory; the write happens later, in batches.
 *
 * The line has a fixed shape, so it is built directly as one template string rather than
 * through pino's generic object serializer: a third of the cost per request, same JSON. The
 * plugins' fields (their registered outcomes, e.g. `"verdict":"allowed"`) come before `target`, in registration order, null when unset: the
 * shape is fixed for the node's life.
 *
 * A line:
 * `{"log":"access","time":"2026-01-01T12:00:00.000Z","request_id":"…","client_ip":"127.0.0.1","method":"GET",
 *   "path":"/slow","status":200,"route":"slow","service":"slow","consumer":"alice",
 *   "bytes_in":78,"bytes_out":312,"latency_ms":121.4,"upstream_ms":120.9,"gateway_ms":0.31,
 *   …the plugins' fields…,"target":"127.0.0.1:9105","trace_id":"4bf9…"}`
 *
 * @example
 *   const log = new AccessLog('/var/log/portico/access.log', nodeLog, telemetry.outcomes)
 *   gateway.observers.push((ctx) => log.write(ctx, measure(ctx, performance.now())))
 *   await log.close()
 */
export class AccessLog {
  readonly #dest: DestinationStream & {
    flush(cb?: (err?: Error) => void): void
    end(): void
    on(event: string, fn: (...args: unknown[]) => void): void
    once(event: string, fn: (...args: unknown[]) => void): void
  }
  readonly #toStdout: boolean
  /** lines dropped because the destination could not keep up */
  dropped = 0

  constructor(
    target: string,
    log: NodeLogger,
    /** the plugins' registered outcomes (filled at node start, read at each write) */
    readonly fields: readonly Outcome[] = [],
  ) {
    this.#toStdout = target === 'stdout'
    this.#dest = pino.destination({
      dest: this.#toStdout ? 1 : target,
      sync: false,
      minLength: BATCH_BYTES,
      maxLength: MAX_BUFFER_BYTES,
      periodicFlush: FLUSH_EVERY_MS,
      mkdir: true,
    }) as never
    let reported = false
    this.#dest.on('error', (err) => {
      if (!reported) log.error({ err, target }, 'access log: cannot write')
      reported = true
    })
    this.#dest.on('drop', () => {
      this.dropped++
    })
  }

  write(ctx: RequestContext, f: RequestFacts): void {
    // the trace of the upstream hop; for a request the gateway answered itself (a cache hit, a
    // 404, a plugin's 401) none was sent, and the caller's own trace id is the one to log
    const tp = ctx.traceparent
    const traceId = tp !== '' ? tp.slice(3, 35) : traceIdOf(ctx.req.headers.traceparent)
    let plugins = ''
    const fields = this.fields
    for (let i = 0; i < fields.length; i++) {
      const o = fields[i]!
      plugins += o.logPrefix + strOrNull(ctx.get(o.slot))
    }
    const route = ctx.route
    const service = ctx.service
    // `"log":"access"` tells an access line apart from the node's own lines when both go to stdout
    this.#dest.write(
      `{"log":"access","time":"${isoNow(Date.now())}","request_id":${JSON.stringify(ctx.id)}` +
        `,"client_ip":${JSON.stringify(ctx.clientIp)},"method":${JSON.stringify(ctx.method)}` +
        `,"path":${JSON.stringify(ctx.path)},"status":${ctx.status}` +
        `,"route":${route === null ? 'null' : JSON.stringify(route.name ?? route.id)}` +
        `,"service":${service === null ? 'null' : JSON.stringify(service.name ?? service.id)}` +
        `,"consumer":${strOrNull(f.consumer)},"bytes_in":${f.bytesIn},"bytes_out":${f.bytesOut}` +
        `,"latency_ms":${ms(f.requestMs)},"upstream_ms":${ms(f.upstreamMs)},"gateway_ms":${ms(f.gatewayMs)}` +
        `${plugins},"target":${strOrNull(ctx.target)}` +
        `,"trace_id":${traceId === null ? 'null' : `"${traceId}"`}}\n`,
    )
  }

  /** Writes out what is buffered and closes a file destination (stdout stays open). */
  close(): Promise<void> {
    const dest = this.#dest
    return new Promise<void>((resolve) => {
      // a destination that failed (unwritable path) may never report closing
      setTimeout(resolve, 2000).unref()
      const finish = () => {
        try {
          if (this.#toStdout) return dest.flush(() => resolve())
          dest.once('close', () => resolve())
          dest.end()
        } catch {
          resolve()
        }
      }
      // a file still being opened cannot be flushed yet
      if ((dest as unknown as { fd: number }).fd < 0) dest.once('ready', finish)
      else finish()
    })
  }
}

/** The trace id of a caller's `traceparent` header, or null when absent or malformed. */
function traceIdOf(header: string | string[] | undefined): string | null {
  return typeof header === 'string' ? (parseTraceparent(header)?.traceId ?? null) : null
}

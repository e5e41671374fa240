import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RequestContext } from '../core/context.js'
import type { Logger } from '../core/logger.js'
import { AccessLog, type AccessLogTarget } from './access-log.js'
import { measure } from './facts.js'
import { OtlpExporter } from './otlp.js'
import { createPrometheus, type NodeView, type Prometheus } from './prometheus.js'
import { TelemetryRegistry } from './telemetry.js'
import { NodeTotals } from './totals.js'

export interface ObservabilityOptions {
  /** record metrics and serve them (the node has somewhere to serve `/metrics`) */
  metrics: boolean
  accessLog: AccessLogTarget
  /** OTLP/HTTP collector URL, or undefined for no span export */
  otlpEndpoint: string | undefined
  view: NodeView
  /** built-in endpoints (`/healthz`, `/metrics` on the proxy listener) are not counted as traffic */
  isBuiltin(path: string): boolean
  log: Logger
}

/** The node's observability: what is on, the one request observer, the `/metrics` handler. */
export interface Observability {
  /** node totals, recorded when metrics are on */
  readonly metrics: NodeTotals | null
  /** where plugins register their series, outcomes and request observers (see registerPlugins) */
  readonly telemetry: TelemetryRegistry
  readonly prometheus: Prometheus | null
  readonly accessLog: AccessLog | null
  readonly otlp: OtlpExporter | null
  /**
   * The function the data plane calls after every response, or null when nothing is on: then no
   * observer is installed and requests pay nothing at all.
   */
  readonly observer: ((ctx: RequestContext) => void) | null
  /** `GET /metrics` (status listener, or the proxy listener when status is exposed there) */
  serveMetrics(req: IncomingMessage, res: ServerResponse): void
  /** writes out the access log and the pending spans */
  close(): Promise<void>
}

/**
 * Builds the parts the settings turn on and one observer that measures a request once and
 * feeds each of them. Plugins register into `telemetry` afterwards, before the first request.
 *
 * @example
 *   const obs = createObservability({ metrics: true, accessLog: 'stdout', otlpEndpoint: undefined, view, isBuiltin, log })
 *   registerPlugins(plugins, obs.telemetry, services)
 *   if (obs.observer) gateway.observers.push(obs.observer)
 *   node.mountStatus('/metrics', obs.serveMetrics)
 */
export function createObservability(opts: ObservabilityOptions): Observability {
  const telemetry = new TelemetryRegistry(opts.view)
  const metrics = opts.metrics ? new NodeTotals() : null
  const prometheus = metrics === null ? null : createPrometheus(metrics, telemetry, opts.view)
  const accessLog =
    opts.accessLog === 'off' ? null : new AccessLog(opts.accessLog, opts.log, telemetry.outcomes)
  const otlp =
    opts.otlpEndpoint === undefined || opts.otlpEndpoint === ''
      ? null
      : new OtlpExporter({ endpoint: opts.otlpEndpoint, version: opts.view.version, log: opts.log })
  const { isBuiltin, log } = opts
  const { outcomes, observers } = telemetry
  let failures = 0

  const observer =
    metrics === null && accessLog === null && otlp === null
      ? null
      : (ctx: RequestContext): void => {
          try {
            const f = measure(ctx, performance.now())
            if (metrics !== null && (ctx.route !== null || !isBuiltin(ctx.path))) {
              metrics.count(ctx.status, f.bytesIn, f.bytesOut)
              // registered at node start: a few entries, read in place (no per-request allocation)
              for (let i = 0; i < outcomes.length; i++) outcomes[i]!.record(ctx)
              for (let i = 0; i < observers.length; i++) observers[i]!(ctx, f)
            }
            if (accessLog !== null) accessLog.write(ctx, f)
            if (otlp !== null) otlp.add(ctx, f)
          } catch (err) {
            // observers must not throw into the data plane; say so once in a while, not per request
            if (failures++ % 10_000 === 0) log.error({ err, failures }, 'request observer failed')
          }
        }

  const serveMetrics = (_req: IncomingMessage, res: ServerResponse): void => {
    if (prometheus === null) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' })
      res.end('{"message":"metrics are off on this node (PORTICO_METRICS=off)"}')
      return
    }
    prometheus.render().then(
      (text) => {
        res.writeHead(200, {
          'content-type': prometheus.contentType,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        })
        res.end(text)
      },
      (err: unknown) => {
        log.error({ err }, '/metrics failed')
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
        res.end('{"message":"An unexpected error occurred"}')
      },
    )
  }

  return {
    metrics,
    telemetry,
    prometheus,
    accessLog,
    otlp,
    observer,
    serveMetrics,
    close: async () => {
      await Promise.all([accessLog?.close(), otlp?.close()])
    },
  }
}

import type { EntityInfo, RequestContext } from '../../core/context.js'
import { slot } from '../../core/slot.js'
import type { RequestFacts } from '../../core/telemetry.js'
import { RouteSeries } from './series.js'

/**
 * Which labelled series a request feeds, as its route's `prometheus` instance asks (Kong's
 * `status_code_metrics`, `latency_metrics`, `bandwidth_metrics`, `per_consumer`). Built once per
 * instance; the instance hands the same object to every request.
 */
export interface MetricsSelection {
  readonly statusCodes: boolean
  readonly latency: boolean
  readonly bandwidth: boolean
  readonly perConsumer: boolean
}

/** Set by the plugin's log phase; null: the request feeds no labelled series. */
export const SELECTION = slot<MetricsSelection | null>('prometheus.selection', null)

/**
 * Kong's per-route series, recorded after each finished request whose route runs an enabled
 * instance ({@link SELECTION}). Allocates nothing per request once a route's series exist.
 *
 * @example
 *   const r = new KongRecorder()
 *   t.onRequest((ctx, facts) => r.record(ctx, facts))
 */
export class KongRecorder {
  /** every (service, route) label pair ever seen, by `service \n route` */
  readonly series = new Map<string, RouteSeries>()
  /** a runtime's route objects → their series: one WeakMap lookup per request, rebound after a reload */
  readonly #byRoute = new WeakMap<EntityInfo, RouteSeries>()

  record(ctx: RequestContext, f: RequestFacts): void {
    const sel = ctx.get(SELECTION)
    // Kong's exporter records nothing for a request that matched no route
    if (sel === null || ctx.route === null) return
    const rs = this.#routeSeries(ctx.route, ctx.service)
    const consumer = sel.perConsumer ? f.consumer : ''
    if (sel.statusCodes) rs.countStatus(ctx.status, f.source, consumer)
    if (sel.latency) {
      rs.request.observe(f.requestMs)
      rs.gateway.observe(f.gatewayMs)
      if (!Number.isNaN(f.upstreamMs)) rs.upstream.observe(f.upstreamMs)
    }
    if (sel.bandwidth) rs.addBytes(consumer, f.bytesIn, f.bytesOut)
  }

  #routeSeries(route: EntityInfo, svc: EntityInfo | null): RouteSeries {
    const found = this.#byRoute.get(route)
    if (found !== undefined) return found
    // Kong's labels: the service's name (Kong falls back to its host; Portico to its id),
    // the route's name or id
    const service = svc === null ? '' : (svc.name ?? svc.id)
    const name = route.name ?? route.id
    const key = `${service}\n${name}`
    let rs = this.series.get(key)
    if (rs === undefined) this.series.set(key, (rs = new RouteSeries(service, name)))
    this.#byRoute.set(route, rs)
    return rs
  }
}

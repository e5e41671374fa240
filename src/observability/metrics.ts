import type { EntityInfo, RequestContext } from '../core/context.js'
import type { RequestFacts } from './facts.js'
import { bump, NodeTotals, RouteSeries } from './series.js'

/**
 * The metrics the request path records into: node totals for every request, and the labelled
 * series Kong's prometheus plugin exports for requests whose route runs the `prometheus`
 * plugin (`ctx.metrics`, set by its log phase). Scrape-time metrics and the text format live
 * in prometheus.ts; this part allocates nothing per request once a route's series exist.
 *
 * @example
 *   const m = new RequestMetrics()
 *   gateway.observers.push((ctx) => m.record(ctx, measure(ctx, performance.now())))
 */
export class RequestMetrics {
  readonly totals = new NodeTotals()
  /** every (service, route) label pair ever seen, by `service \n route` */
  readonly series = new Map<string, RouteSeries>()
  /** a runtime's route objects → their series: one WeakMap lookup per request, rebound after a reload */
  readonly #byRoute = new WeakMap<EntityInfo, RouteSeries>()
  /** requests that matched no route (Kong labels them with empty service and route) */
  readonly #unmatched: RouteSeries

  constructor() {
    this.#unmatched = this.#labelled('', '')
  }

  record(ctx: RequestContext, f: RequestFacts): void {
    const status = ctx.status
    this.totals.count(status, f.bytesIn, f.bytesOut)
    if (ctx.cacheStatus !== '') bump(this.totals.cache, ctx.cacheStatus)
    if (ctx.rateLimit !== '') bump(this.totals.rateLimit, ctx.rateLimit)
    if (ctx.queued !== '') bump(this.totals.queue, ctx.queued)
    const sel = ctx.metrics
    if (sel === null) return
    const rs = this.#routeSeries(ctx)
    const consumer = sel.perConsumer ? f.consumer : ''
    if (sel.statusCodes) rs.countStatus(status, f.source, consumer)
    if (sel.latency) {
      rs.request.observe(f.requestMs)
      rs.gateway.observe(f.gatewayMs)
      if (!Number.isNaN(f.upstreamMs)) rs.upstream.observe(f.upstreamMs)
    }
    if (sel.bandwidth) rs.addBytes(consumer, f.bytesIn, f.bytesOut)
  }

  #routeSeries(ctx: RequestContext): RouteSeries {
    const route = ctx.route
    if (route === null) return this.#unmatched
    const found = this.#byRoute.get(route)
    if (found !== undefined) return found
    // Kong's labels: the service's name (Kong falls back to its host; Portico to its id),
    // the route's name or id
    const svc = ctx.service
    const rs = this.#labelled(svc === null ? '' : (svc.name ?? svc.id), route.name ?? route.id)
    this.#byRoute.set(route, rs)
    return rs
  }

  #labelled(service: string, route: string): RouteSeries {
    const key = `${service}\n${route}`
    let rs = this.series.get(key)
    if (rs === undefined) this.series.set(key, (rs = new RouteSeries(service, route)))
    return rs
  }
}

/**
 * The request path's side of the metrics: plain numbers and typed arrays updated in place.
 * prom-client's own `inc()`/`observe()` hash the label set into a string and allocate on every
 * call, even through `labels(...)` children; here a request finds its series by object
 * identity (route → series, status → counts) and bumps numbers. prom-client's registry formats
 * these at scrape time (see exposition.ts beside this file).
 */

/** Kong's `UPSTREAM_LATENCY_BUCKETS` (ms): request and upstream latency. */
export const UPSTREAM_BUCKETS: readonly number[] = [
  25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000,
]
/** Kong's `KONG_LATENCY_BUCKETS` (ms): the gateway's own latency (`kong_kong_latency_ms`). */
export const GATEWAY_BUCKETS: readonly number[] = [
  1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000,
]

/**
 * A fixed-bucket histogram: per-bucket counts (the last is +Inf), sum and count.
 *
 * @example
 *   const h = new LatencyHistogram(GATEWAY_BUCKETS)
 *   h.observe(3.2)   // counted in le="5"
 */
export class LatencyHistogram {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }
  observe(ms: number): void {
    const b = this.bounds
    let i = 0
    // le semantics: a value equal to a bound belongs to that bound's bucket
    while (i < b.length && ms > b[i]!) i++
    this.counts[i]!++
    this.sum += ms
    this.count++
  }
}

/** Requests of one status code, by Kong's `source` label, and by consumer when per_consumer is on. */
export class StatusCounts {
  service = 0
  kong = 0
  /** consumer label → [service, kong] */
  consumers: Map<string, [number, number]> | null = null

  add(source: 'service' | 'kong', consumer: string): void {
    if (consumer === '') {
      if (source === 'service') this.service++
      else this.kong++
      return
    }
    const m = this.consumers ?? (this.consumers = new Map())
    let pair = m.get(consumer)
    if (pair === undefined) m.set(consumer, (pair = [0, 0]))
    pair[source === 'service' ? 0 : 1]++
  }
}

/** Bandwidth of one consumer label ('' without per_consumer) on one route. */
export interface Bytes {
  ingress: number
  egress: number
}

/**
 * Every labelled series of one (service, route) pair. Lives as long as the node: a reload
 * binds the new runtime's route objects to the same series, so counters never restart.
 */
export class RouteSeries {
  readonly statuses = new Map<number, StatusCounts>()
  readonly request = new LatencyHistogram(UPSTREAM_BUCKETS)
  readonly upstream = new LatencyHistogram(UPSTREAM_BUCKETS)
  readonly gateway = new LatencyHistogram(GATEWAY_BUCKETS)
  /** without a consumer label: the common case, no map lookup */
  readonly bytes: Bytes = { ingress: 0, egress: 0 }
  readonly consumerBytes = new Map<string, Bytes>()

  constructor(
    readonly service: string,
    readonly route: string,
  ) {}

  countStatus(status: number, source: 'service' | 'kong', consumer: string): void {
    let s = this.statuses.get(status)
    if (s === undefined) this.statuses.set(status, (s = new StatusCounts()))
    s.add(source, consumer)
  }

  addBytes(consumer: string, ingress: number, egress: number): void {
    let b = this.bytes
    if (consumer !== '') {
      const found = this.consumerBytes.get(consumer)
      if (found === undefined) this.consumerBytes.set(consumer, (b = { ingress: 0, egress: 0 }))
      else b = found
    }
    b.ingress += ingress
    b.egress += egress
  }
}

import type { Metric, Registry } from 'prom-client'
import type { LatencyHistogram, NodeTotals, RouteSeries } from './series.js'

/** One sample as prom-client's registry formats it. */
export interface Sample {
  labels: Record<string, string | number>
  value: number
  /** `<name>_bucket`, `_sum`, `_count` for histograms */
  metricName?: string
}

/**
 * A metric whose samples are read from the request path's plain numbers at scrape time, in
 * prom-client's registry (which escapes and formats them with every other metric).
 */
class ScrapedMetric {
  readonly aggregator = 'sum'
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    readonly samples: () => Sample[],
  ) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.samples(), aggregator: 'sum' }
  }
  reset(): void {}
}

/**
 * Registers a counter or histogram whose samples come from `samples()` at scrape time.
 *
 * @example
 *   scraped(registry, 'portico_node_requests_total', 'Requests', 'counter', () => [{ labels: {}, value: n }])
 */
export function scraped(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  samples: () => Sample[],
): void {
  registry.registerMetric(new ScrapedMetric(name, help, type, samples) as unknown as Metric<string>)
}

/** The cumulative `_bucket` samples of a histogram, then `_sum` and `_count`. */
export function histogramSamples(
  name: string,
  labels: Record<string, string>,
  h: LatencyHistogram,
  out: Sample[],
): void {
  let cumulative = 0
  for (let i = 0; i < h.counts.length; i++) {
    cumulative += h.counts[i]!
    const le = i < h.bounds.length ? h.bounds[i]! : '+Inf'
    out.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` })
  }
  out.push({ labels, value: h.sum, metricName: `${name}_sum` })
  out.push({ labels, value: h.count, metricName: `${name}_count` })
}

/** `http_requests_total` samples: one per (service, route, code, source, consumer) seen. */
export function statusSamples(series: Iterable<RouteSeries>): Sample[] {
  const out: Sample[] = []
  for (const rs of series) {
    for (const [code, c] of rs.statuses) {
      const base = { service: rs.service, route: rs.route, code }
      if (c.service > 0) out.push({ labels: { ...base, source: 'service', consumer: '' }, value: c.service })
      if (c.kong > 0) out.push({ labels: { ...base, source: 'kong', consumer: '' }, value: c.kong })
      if (c.consumers === null) continue
      for (const [consumer, [svc, kong]] of c.consumers) {
        if (svc > 0) out.push({ labels: { ...base, source: 'service', consumer }, value: svc })
        if (kong > 0) out.push({ labels: { ...base, source: 'kong', consumer }, value: kong })
      }
    }
  }
  return out
}

/** `bandwidth_bytes` samples: per (service, route, direction, consumer) with bytes counted. */
export function bandwidthSamples(series: Iterable<RouteSeries>): Sample[] {
  const out: Sample[] = []
  const push = (rs: RouteSeries, consumer: string, ingress: number, egress: number) => {
    const base = { service: rs.service, route: rs.route }
    if (ingress > 0) out.push({ labels: { ...base, direction: 'ingress', consumer }, value: ingress })
    if (egress > 0) out.push({ labels: { ...base, direction: 'egress', consumer }, value: egress })
  }
  for (const rs of series) {
    push(rs, '', rs.bytes.ingress, rs.bytes.egress)
    for (const [consumer, b] of rs.consumerBytes) push(rs, consumer, b.ingress, b.egress)
  }
  return out
}

/** One latency histogram of every route that observed something. */
export function latencySamples(
  name: string,
  series: Iterable<RouteSeries>,
  pick: (rs: RouteSeries) => LatencyHistogram,
): Sample[] {
  const out: Sample[] = []
  for (const rs of series) {
    const h = pick(rs)
    if (h.count > 0) histogramSamples(name, { service: rs.service, route: rs.route }, h, out)
  }
  return out
}

const CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx']

/** Node totals by status class. */
export function classSamples(totals: NodeTotals): Sample[] {
  return CLASSES.map((code_class, i) => ({ labels: { code_class }, value: totals.classes[i]! }))
}

/** An outcome map (`Hit` → 12) as samples labelled `label="hit"`. */
export function outcomeSamples(m: Map<string, number>, label: string): Sample[] {
  return [...m].map(([k, value]) => ({ labels: { [label]: k.toLowerCase() }, value }))
}

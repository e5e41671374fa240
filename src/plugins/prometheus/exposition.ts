import type { Sample } from '../../core/telemetry.js'
import type { LatencyHistogram, RouteSeries } from './series.js'

/** Kong OSS has one workspace, `default`: every per-route series carries it. */
export const WORKSPACE = 'default'

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

/** `kong_http_requests_total` samples: one per (service, route, code, source, consumer) seen. */
export function statusSamples(series: Iterable<RouteSeries>): Sample[] {
  const out: Sample[] = []
  const push = (rs: RouteSeries, code: number, source: string, consumer: string, value: number) => {
    if (value > 0)
      out.push({
        labels: { service: rs.service, route: rs.route, code, source, workspace: WORKSPACE, consumer },
        value,
      })
  }
  for (const rs of series) {
    for (const [code, c] of rs.statuses) {
      push(rs, code, 'service', '', c.service)
      push(rs, code, 'kong', '', c.kong)
      if (c.consumers === null) continue
      for (const [consumer, [svc, kong]] of c.consumers) {
        push(rs, code, 'service', consumer, svc)
        push(rs, code, 'kong', consumer, kong)
      }
    }
  }
  return out
}

/** `kong_bandwidth_bytes` samples: per (service, route, direction, consumer) with bytes counted. */
export function bandwidthSamples(series: Iterable<RouteSeries>): Sample[] {
  const out: Sample[] = []
  const push = (rs: RouteSeries, consumer: string, ingress: number, egress: number) => {
    const base = { service: rs.service, route: rs.route }
    if (ingress > 0)
      out.push({ labels: { ...base, direction: 'ingress', workspace: WORKSPACE, consumer }, value: ingress })
    if (egress > 0)
      out.push({ labels: { ...base, direction: 'egress', workspace: WORKSPACE, consumer }, value: egress })
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
    if (h.count > 0)
      histogramSamples(name, { service: rs.service, route: rs.route, workspace: WORKSPACE }, h, out)
  }
  return out
}

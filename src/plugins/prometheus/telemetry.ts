import type { ConfigDocument } from '../../core/entities.js'
import type { PluginServices } from '../../core/services.js'
import type { NodeReadings, Sample, Telemetry } from '../../core/telemetry.js'
import { bandwidthSamples, latencySamples, statusSamples } from './exposition.js'
import { KongRecorder } from './recorder.js'
import type { RouteSeries } from './series.js'

/** Kong's subsystem label: Portico serves HTTP only (upgrades included). */
const SUBSYSTEM = 'http'
const HEALTH_STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'] as const

/** Kong exports upstream health only when an enabled instance asks (`upstream_health_metrics`). */
export function wantsUpstreamHealth(doc: ConfigDocument): boolean {
  return doc.plugins.some(
    (p) =>
      p.enabled &&
      p.name === 'prometheus' &&
      (p.config as { upstream_health_metrics?: unknown }).upstream_health_metrics === true,
  )
}

/**
 * Kong's per-route series (`kong_http_requests_total`, the three latency histograms,
 * `kong_bandwidth_bytes`), recorded for requests whose route runs an instance.
 */
function routeSeries(t: Telemetry, recorder: KongRecorder): void {
  t.onRequest((ctx, facts) => recorder.record(ctx, facts))
  const all = (): Iterable<RouteSeries> => recorder.series.values()
  t.series(
    'kong_http_requests_total',
    'HTTP status codes per consumer/service/route in Kong',
    'counter',
    () => statusSamples(all()),
  )
  const latency = (name: string, help: string, pick: Parameters<typeof latencySamples>[2]) =>
    t.series(name, help, 'histogram', () => latencySamples(name, all(), pick))
  latency(
    'kong_kong_latency_ms',
    'Latency added by Kong and enabled plugins for each service/route in Kong',
    (rs) => rs.gateway,
  )
  latency(
    'kong_upstream_latency_ms',
    'Latency added by upstream response for each service/route in Kong',
    (rs) => rs.upstream,
  )
  latency(
    'kong_request_latency_ms',
    'Total latency incurred during requests for each service/route in Kong',
    (rs) => rs.request,
  )
  t.series('kong_bandwidth_bytes', 'Total bandwidth (ingress/egress) throughput in bytes', 'counter', () =>
    bandwidthSamples(all()),
  )
}

/** `kong_upstream_target_health`: every target in each of Kong's four states, 1 for the current one. */
function upstreamHealth(t: Telemetry): void {
  let seen: ConfigDocument | null = null
  let wanted = false
  t.series(
    'kong_upstream_target_health',
    'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
    'gauge',
    () => {
      const doc = t.node.document()
      if (doc !== seen) {
        seen = doc
        wanted = wantsUpstreamHealth(doc)
      }
      if (!wanted) return []
      const out: Sample[] = []
      for (const u of t.node.upstreams()) {
        for (const target of u.targets) {
          const now = target.health.toLowerCase()
          for (const state of HEALTH_STATES) {
            const labels = {
              upstream: u.name,
              target: target.target,
              address: target.target,
              state,
              subsystem: SUBSYSTEM,
            }
            out.push({ labels, value: state === now ? 1 : 0 })
          }
        }
      }
      return out
    },
  )
}

/**
 * Kong's node series with Node's honest equivalents: nginx's connection figures are the proxy
 * listener's (no `reading` state: Node does not expose a connection reading a request head),
 * the datastore is the configuration store, Lua VMs are this worker's V8 heap, shared dicts are
 * the memory stores plugins asked the node for (proxy-cache's dictionaries).
 */
function nodeSeries(t: Telemetry): void {
  const node: NodeReadings = t.node
  const id = node.nodeId
  t.series('kong_node_info', 'Kong Node metadata information', 'gauge', () => [
    { labels: { node_id: id, version: node.version }, value: 1 },
  ])
  t.series('kong_nginx_connections_total', 'Number of connections by subsystem', 'gauge', async () => {
    const c = await node.connections()
    const at = (state: string, value: number): Sample => ({
      labels: { node_id: id, subsystem: SUBSYSTEM, state },
      value,
    })
    return [
      at('accepted', c.accepted),
      at('handled', c.accepted),
      at('total', c.requests),
      at('active', c.active),
      at('writing', c.busy),
      at('waiting', Math.max(0, c.active - c.busy)),
    ]
  })
  t.series('kong_nginx_requests_total', 'Number of requests total', 'gauge', async () => [
    { labels: { node_id: id, subsystem: SUBSYSTEM }, value: (await node.connections()).requests },
  ])
  t.series(
    'kong_datastore_reachable',
    'Datastore reachable from Kong, 0 is unreachable',
    'gauge',
    async () => [{ labels: {}, value: (await node.datastoreReachable()) ? 1 : 0 }],
  )
  t.series('kong_memory_workers_lua_vms_bytes', 'Allocated bytes in worker Lua VM', 'gauge', () => [
    {
      labels: { node_id: id, pid: process.pid, kong_subsystem: SUBSYSTEM },
      value: process.memoryUsage().heapUsed,
    },
  ])
  const dict = (pick: (s: { bytes: number; budget: number }) => number) => (): Sample[] =>
    node.memoryStores().map((s) => ({
      labels: { node_id: id, shared_dict: s.name, kong_subsystem: SUBSYSTEM },
      value: pick(s),
    }))
  t.series(
    'kong_memory_lua_shared_dict_bytes',
    'Allocated slabs in bytes in a shared_dict',
    'gauge',
    dict((s) => s.bytes),
  )
  t.series(
    'kong_memory_lua_shared_dict_total_bytes',
    'Total capacity in bytes of a shared_dict',
    'gauge',
    dict((s) => s.budget),
  )
}

/**
 * The prometheus plugin's registration hook: Kong's exporter, series for series. The per-route
 * series live in `services.shared` so that a second registration on the same node (tests build
 * several nodes in one process, each with its own services) keeps its own counts.
 */
export function telemetry(t: Telemetry, services: PluginServices): void {
  // Kong's `kong_nginx_metric_errors_total`: errors while collecting this exporter's series.
  // Every series below reads through `guarded`, which counts a reading that throws (and
  // leaves that series out of the scrape) instead of failing the whole scrape.
  const errors = services.shared('prometheus:errors', () => ({ count: 0 }))
  const guarded: Telemetry = {
    node: t.node,
    outcome: (slot, series) => t.outcome(slot, series),
    onRequest: (observe) => t.onRequest(observe),
    series: (name, help, type, samples) =>
      t.series(name, help, type, async () => {
        try {
          return await samples()
        } catch {
          errors.count++
          return []
        }
      }),
  }
  routeSeries(
    guarded,
    services.shared('prometheus:series', () => new KongRecorder()),
  )
  upstreamHealth(guarded)
  nodeSeries(guarded)
  t.series('kong_nginx_metric_errors_total', 'Number of nginx-lua-prometheus errors', 'counter', () => [
    { labels: {}, value: errors.count },
  ])
}

import type { RequestContext } from './context.js'
import type { ConfigDocument } from './entities.js'
import type { Slot } from './slot.js'

/**
 * What the metrics, the access log and the trace exporter need to know about a finished
 * request, measured once by the node's observer. Latencies in milliseconds; NaN when the part
 * did not happen.
 */
export interface RequestFacts {
  /** accept → response finished */
  requestMs: number
  /** upstream request sent → upstream response headers (Kong's `latencies.proxy`) */
  upstreamMs: number
  /**
   * the gateway's own part (Kong's `latencies.kong`): accept → the request leaves for the
   * upstream, or the whole request when the gateway or a plugin answered it
   */
  gatewayMs: number
  /** bytes read from the client for this request: head and body (nginx `$request_length`) */
  bytesIn: number
  /** bytes written to the client: head and body (nginx `$bytes_sent`) */
  bytesOut: number
  /** the response came from the upstream ('service') or from the gateway/a plugin ('kong'), Kong's `source` label */
  source: 'service' | 'kong'
  /** the consumer's username (Kong's label), else custom_id, else id; '' when anonymous */
  consumer: string
}

/** One sample of a series, as prom-client's registry formats it. */
export interface Sample {
  labels: Record<string, string | number>
  value: number
  /** `<name>_bucket`, `_sum`, `_count` for histograms */
  metricName?: string
}

/**
 * Samples of one label: a sample per value, e.g. a counter split by reason.
 *
 * @example
 *   t.series('portico_x_failures_total', 'Failures', 'counter', () => byLabel('reason', { error: s.errors, timeout: s.timeouts }))
 */
export function byLabel(label: string, values: Record<string, number>): Sample[] {
  return Object.entries(values).map(([v, value]) => ({ labels: { [label]: v }, value }))
}

/** One upstream's targets as the balancers describe them (`Balancer.describe()`). */
export interface UpstreamView {
  name: string
  targets: ReadonlyArray<{ target: string; health: string }>
}

/** The proxy listener's connections and requests (nginx's `stub_status` figures, Node's view). */
export interface ConnectionCounts {
  /** connections accepted since the node started */
  accepted: number
  /** connections open now */
  active: number
  /** of those, connections with a request in progress (nginx's reading + writing) */
  busy: number
  /** requests received since the node started */
  requests: number
}

/** A byte-bounded store of the node (a plugin's in-process store), as Kong reports its shared dicts. */
export interface MemoryStoreView {
  name: string
  /** bytes held now */
  bytes: number
  /** bytes allowed */
  budget: number
}

/**
 * What a series may read from the node at scrape time. Each call reads the current state; none
 * is meant for the request path.
 */
export interface NodeReadings {
  readonly nodeId: string
  readonly version: string
  /** the running configuration */
  document(): ConfigDocument
  upstreams(): readonly UpstreamView[]
  connections(): Promise<ConnectionCounts>
  /** the configuration store answers (memory: always; Redis: a bounded PING) */
  datastoreReachable(): Promise<boolean>
  /** the byte-bounded memory stores plugins asked the node for */
  memoryStores(): readonly MemoryStoreView[]
}

/** A per-request outcome a plugin keeps in a string slot ('' when it did not take part). */
export interface OutcomeSeries {
  /** counter name, e.g. `portico_<plugin>_requests_total` */
  metric: string
  help: string
  /** the label carrying the outcome (lower-cased), e.g. `status` */
  label: string
  /** the access log field carrying it as set (null when ''), e.g. `verdict` */
  logField: string
  /** the value that usage analytics counts as a cache hit (a caching plugin's own word for it) */
  cacheHit?: string
}

/**
 * The registration hook's argument: through it a plugin declares, once per node, the series and
 * access-log fields it feeds. The node's observability renders whatever was registered; it
 * names no plugin. Registration happens whatever the settings say; what the settings turn off
 * (metrics, access log) simply never reads it.
 *
 * @example
 *   // plugins/<name>/plugin.ts
 *   telemetry(t, services) {
 *     const stats = services.shared('my-plugin:stats', () => ({ refused: 0 }))
 *     t.outcome(VERDICT, { metric: 'portico_my_plugin_requests_total', help: 'Verdicts', label: 'verdict', logField: 'verdict' })
 *     t.series('portico_my_plugin_refused_total', 'Refused', 'counter', () => [{ labels: {}, value: stats.refused }])
 *   }
 */
export interface Telemetry {
  /** scrape-time readings of the node, for series about the node itself */
  readonly node: NodeReadings
  /**
   * A series whose samples are read at scrape time (counters kept as plain numbers by the
   * plugin, gauges read from its state). Names are unique per node: a second registration of
   * the same name replaces the first.
   */
  series(
    name: string,
    help: string,
    type: 'counter' | 'gauge' | 'histogram',
    samples: () => Sample[] | Promise<Sample[]>,
  ): void
  /** Counts `slot`'s value per finished client request, and writes it in every access-log line. */
  outcome(slot: Slot<string>, series: OutcomeSeries): void
  /**
   * Called after every finished client request (not built-in endpoints, not background
   * copies) with its measured facts, when the node records metrics. Must not throw or block;
   * `facts` is reused for the next request.
   */
  onRequest(observe: (ctx: RequestContext, facts: RequestFacts) => void): void
}

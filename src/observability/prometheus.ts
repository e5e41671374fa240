import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { NodeReadings, UpstreamView } from '../core/telemetry.js'
import { classSamples, type Sample, scraped } from './exposition.js'
import type { TelemetryRegistry } from './telemetry.js'
import type { NodeTotals } from './totals.js'

/** What the scrape reads from the node, at scrape time only. */
export interface NodeView extends NodeReadings {
  config(): { generation: number; hash: string; loadedAt: number }
  /** every Redis connection the node holds: its status and its breaker */
  redis(): ReadonlyArray<{
    url: string
    status: string
    breaker: string
    breaker_opened: number
    timeouts: number
    errors: number
  }>
  /** every upstream's retry budget on this node: counters since start, and what is left of it */
  retries(): ReadonlyArray<{
    upstream: string
    requests: number
    retries: number
    exhausted: number
    vetoed: number
    remaining: number
  }>
  /** PINGs the node's own Redis (`PORTICO_REDIS_URL`); null when none is configured */
  ping: { url: string; run: () => Promise<unknown> } | null
}

/** A PING slower than this counts as a failure: a scrape must not hang on a sick Redis. */
export const PING_BOUND_MS = 250

let processRegistry: Registry | null = null
/** Process metrics (CPU, memory, event loop lag, GC, handles): one collector per process. */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** Runs `run` bounded by {@link PING_BOUND_MS}: its round trip in ms, or null when it failed or was late. */
export async function timedPing(run: () => Promise<unknown>): Promise<number | null> {
  const t0 = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), PING_BOUND_MS)
      }),
    ])
    return performance.now() - t0
  } catch {
    return null
  } finally {
    clearTimeout(timer)
  }
}

/** Requests and bytes of every client request on this node, whatever the plugins say. */
function trafficSeries(registry: Registry, t: NodeTotals): void {
  scraped(
    registry,
    'portico_node_requests_total',
    'Requests this node answered, by status class',
    'counter',
    () => classSamples(t),
  )
  scraped(
    registry,
    'portico_node_bandwidth_bytes',
    'Bytes from and to clients on this node',
    'counter',
    () => [
      { labels: { direction: 'ingress' }, value: t.ingress },
      { labels: { direction: 'egress' }, value: t.egress },
    ],
  )
}

/** The node's version and its running configuration: generation, hash, when it was applied. */
function configSeries(registry: Registry, view: NodeView): void {
  new Gauge({
    name: 'portico_node_info',
    help: 'Portico node metadata',
    labelNames: ['version'],
    registers: [registry],
  })
    .labels(view.version)
    .set(1)
  const gauge = (name: string, help: string, value: (c: ReturnType<NodeView['config']>) => number) =>
    scraped(registry, name, help, 'gauge', () => [{ labels: {}, value: value(view.config()) }])
  gauge('portico_config_generation', 'Configurations applied since start', (c) => c.generation)
  gauge(
    'portico_config_last_reload_timestamp_seconds',
    'When the running configuration was applied (Unix time)',
    (c) => c.loadedAt / 1000,
  )
  scraped(registry, 'portico_config_info', 'Hash of the running configuration (value 1)', 'gauge', () => [
    { labels: { hash: view.config().hash }, value: 1 },
  ])
}

/**
 * Every Redis connection's state, and the PING of the node's own Redis. The PING runs once per
 * scrape, before the registry collects (see {@link createPrometheus}'s render): both read `ping()`.
 */
function redisSeries(registry: Registry, view: NodeView, ping: () => number | null): void {
  scraped(
    registry,
    'portico_redis_ping_latency_ms',
    `PING round trip to the node's Redis at scrape time (absent when it failed or took over ${PING_BOUND_MS} ms)`,
    'gauge',
    () => {
      const ms = ping()
      return view.ping !== null && ms !== null ? [{ labels: { url: view.ping.url }, value: ms }] : []
    },
  )
  scraped(
    registry,
    'portico_redis_reachable',
    'Redis connection ready and answering (1) or not (0)',
    'gauge',
    () => {
      const reach = new Map(view.redis().map((r) => [r.url, r.status === 'ready' ? 1 : 0]))
      if (view.ping !== null && ping() === null) reach.set(view.ping.url, 0)
      return [...reach].map(([url, value]) => ({ labels: { url }, value }))
    },
  )
  scraped(
    registry,
    'portico_redis_breaker_state',
    'The breaker of each Redis connection: 1 for its current state (closed, open, half-open), 0 for the others',
    'gauge',
    () =>
      view.redis().flatMap((r) =>
        (['closed', 'open', 'half-open'] as const).map((state) => ({
          labels: { url: r.url, state },
          value: r.breaker === state ? 1 : 0,
        })),
      ),
  )
  for (const [name, help, field] of [
    [
      'portico_redis_breaker_opened_total',
      'Times the breaker of each Redis connection opened',
      'breaker_opened',
    ],
    ['portico_redis_call_timeouts_total', 'Redis calls that missed their deadline', 'timeouts'],
    [
      'portico_redis_call_errors_total',
      'Redis calls that failed or were refused (down, breaker open)',
      'errors',
    ],
  ] as const) {
    scraped(registry, name, help, 'counter', () =>
      view.redis().map((r) => ({ labels: { url: r.url }, value: r[field] })),
    )
  }
}

/** Retries per upstream (DESIGN §2.4): sent, refused by the budget, or with nowhere to go. */
function retrySeries(registry: Registry, view: NodeView): void {
  scraped(
    registry,
    'portico_upstream_retries_total',
    'Retries per upstream: sent, refused by the retry budget (budget_exhausted), or not sent because every other target was refused by a breaker (target_open)',
    'counter',
    () =>
      view.retries().flatMap((r) => [
        { labels: { upstream: r.upstream, result: 'sent' }, value: r.retries },
        { labels: { upstream: r.upstream, result: 'budget_exhausted' }, value: r.exhausted },
        { labels: { upstream: r.upstream, result: 'target_open' }, value: r.vetoed },
      ]),
  )
  scraped(
    registry,
    'portico_upstream_retry_budget_remaining',
    'Retries the budget of each upstream still allows in its 10 s window (20 % of requests, at least 3 per second)',
    'gauge',
    () => view.retries().map((r) => ({ labels: { upstream: r.upstream }, value: r.remaining })),
  )
  scraped(
    registry,
    'portico_upstream_requests_total',
    'Requests sent to each upstream (first attempts), the base of its retry budget',
    'counter',
    () => view.retries().map((r) => ({ labels: { upstream: r.upstream }, value: r.requests })),
  )
}

/**
 * Drops the `# HELP`/`# TYPE` lines of families that have no sample: Kong's exporter prints a
 * family only when something registered it (a prometheus switch that is off, a series no
 * request fed yet), and dashboards and Kong's own checks read a family's name as "present".
 *
 * @example
 *   withoutEmptyFamilies('# HELP a x\n# TYPE a counter\n# HELP b y\n# TYPE b gauge\nb 1\n')
 *   // → '# HELP b y\n# TYPE b gauge\nb 1\n'
 */
export function withoutEmptyFamilies(text: string): string {
  const lines = text.split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0] as string
      let j = i + 1
      while (j < lines.length && (lines[j] as string).startsWith('# TYPE ')) j++
      const next = lines[j] ?? ''
      if (!next.startsWith(name) || next.startsWith('#')) {
        i = j - 1
        continue
      }
    }
    out.push(line)
  }
  return out.join('\n')
}

/**
 * The node's `/metrics`: Portico's node series (traffic, configuration, Redis), whatever series
 * the plugins registered (Kong's under Kong's names, the prometheus plugin's; the others'
 * `portico_*`), and the process metrics, in Prometheus' text format.
 *
 * @example
 *   const prom = createPrometheus(totals, telemetry, view)
 *   res.writeHead(200, { 'content-type': prom.contentType }).end(await prom.render())
 */
export function createPrometheus(totals: NodeTotals, telemetry: TelemetryRegistry, view: NodeView) {
  const registry = new Registry()
  trafficSeries(registry, totals)
  configSeries(registry, view)
  let ping: number | null = null
  redisSeries(registry, view, () => ping)
  retrySeries(registry, view)
  const own = new Set(registry.getMetricsAsArray().map((m) => m.name))
  const add = (s: {
    name: string
    help: string
    type: 'counter' | 'gauge' | 'histogram'
    samples: () => Sample[] | Promise<Sample[]>
  }) => {
    if (own.has(s.name)) throw new Error(`metric ${s.name} is the node's own: a plugin cannot register it`)
    registry.removeSingleMetric(s.name)
    scraped(registry, s.name, s.help, s.type, s.samples)
  }
  for (const s of telemetry.registered.values()) add(s)
  telemetry.onSeries = add

  return {
    registry,
    contentType: registry.contentType,
    /** the whole exposition: this node's metrics, then the process metrics */
    async render(): Promise<string> {
      ping = view.ping === null ? null : await timedPing(view.ping.run)
      const [mine, proc] = await Promise.all([registry.metrics(), processMetrics().metrics()])
      return `${withoutEmptyFamilies(mine)}\n${proc}`
    },
  }
}

export type Prometheus = ReturnType<typeof createPrometheus>
export type { Sample, UpstreamView }

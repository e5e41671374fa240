import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { ConfigDocument } from '../core/entities.js'
import {
  bandwidthSamples,
  classSamples,
  latencySamples,
  outcomeSamples,
  type Sample,
  scraped,
  statusSamples,
} from './exposition.js'
import type { RequestMetrics } from './metrics.js'

/** One upstream's targets as the balancers describe them (`Balancer.describe()`). */
export interface UpstreamView {
  name: string
  targets: ReadonlyArray<{ target: string; health: string }>
}

/** What the scrape reads from the node, at scrape time only. */
export interface NodeView {
  version: string
  config(): { generation: number; hash: string; loadedAt: number; document: ConfigDocument }
  upstreams(): readonly UpstreamView[]
  /** every Redis connection the node holds: its status and its breaker */
  redis(): ReadonlyArray<{
    url: string
    status: string
    breaker: string
    breaker_opened: number
    timeouts: number
    errors: number
  }>
  /** PINGs the node's own Redis (`PORTICO_REDIS_URL`); null when none is configured */
  ping: { url: string; run: () => Promise<unknown> } | null
}

/** A PING slower than this counts as a failure: a scrape must not hang on a sick Redis. */
export const PING_BOUND_MS = 250

const HEALTH_STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'] as const

let processRegistry: Registry | null = null
/** Process metrics (CPU, memory, event loop lag, GC, handles): one collector per process. */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** An enabled prometheus plugin instance asks for upstream health (Kong exports it only then). */
export function wantsUpstreamHealth(doc: ConfigDocument): boolean {
  return doc.plugins.some(
    (p) =>
      p.enabled &&
      p.name === 'prometheus' &&
      (p.config as { upstream_health_metrics?: unknown }).upstream_health_metrics === true,
  )
}

async function timedPing(run: () => Promise<unknown>): Promise<number | null> {
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

/**
 * The node's `/metrics`: the request metrics under Kong's names with the `portico_` prefix,
 * node totals, scrape-time gauges (configuration, upstream health, Redis) and the process
 * metrics, in Prometheus' text format.
 *
 * @example
 *   const prom = createPrometheus(new RequestMetrics(), view)
 *   res.writeHead(200, { 'content-type': prom.contentType }).end(await prom.render())
 */
export function createPrometheus(m: RequestMetrics, view: NodeView) {
  const registry = new Registry()
  const series = () => m.series.values()
  const t = m.totals
  scraped(
    registry,
    'portico_http_requests_total',
    'HTTP status codes per consumer/service/route',
    'counter',
    () => statusSamples(series()),
  )
  const latency = (name: string, help: string, pick: Parameters<typeof latencySamples>[2]) =>
    scraped(registry, name, help, 'histogram', () => latencySamples(name, series(), pick))
  latency(
    'portico_request_latency_ms',
    'Total latency of requests per service/route (ms)',
    (rs) => rs.request,
  )
  latency(
    'portico_upstream_latency_ms',
    'Upstream response latency per service/route (ms)',
    (rs) => rs.upstream,
  )
  latency('portico_gateway_latency_ms', 'Latency added by Portico and its plugins (ms)', (rs) => rs.gateway)
  scraped(
    registry,
    'portico_bandwidth_bytes',
    'Bandwidth per service/route/direction (bytes)',
    'counter',
    () => bandwidthSamples(series()),
  )
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
  scraped(registry, 'portico_cache_requests_total', 'Cache outcomes (proxy-cache)', 'counter', () =>
    outcomeSamples(t.cache, 'status'),
  )
  scraped(registry, 'portico_rate_limit_requests_total', 'Rate-limit decisions', 'counter', () =>
    outcomeSamples(t.rateLimit, 'outcome'),
  )
  scraped(registry, 'portico_queue_requests_total', 'Request-queue outcomes', 'counter', () =>
    outcomeSamples(t.queue, 'outcome'),
  )

  new Gauge({
    name: 'portico_node_info',
    help: 'Portico node metadata',
    labelNames: ['version'],
    registers: [registry],
  })
    .labels(view.version)
    .set(1)
  new Gauge({
    name: 'portico_config_generation',
    help: 'Configurations applied since start',
    registers: [registry],
    collect() {
      this.set(view.config().generation)
    },
  })
  new Gauge({
    name: 'portico_config_info',
    help: 'Hash of the running configuration (value 1)',
    labelNames: ['hash'],
    registers: [registry],
    collect() {
      this.reset()
      this.labels(view.config().hash).set(1)
    },
  })
  new Gauge({
    name: 'portico_config_last_reload_timestamp_seconds',
    help: 'When the running configuration was applied (Unix time)',
    registers: [registry],
    collect() {
      this.set(view.config().loadedAt / 1000)
    },
  })
  let healthFor = -1
  let health = false
  new Gauge({
    name: 'portico_upstream_target_health',
    help: 'Health of upstream targets; states healthchecks_off|healthy|unhealthy|dns_error, 1 for the current one',
    labelNames: ['upstream', 'target', 'address', 'state', 'subsystem'],
    registers: [registry],
    collect() {
      this.reset()
      const c = view.config()
      if (healthFor !== c.generation) {
        healthFor = c.generation
        health = wantsUpstreamHealth(c.document)
      }
      if (!health) return
      for (const u of view.upstreams()) {
        for (const t of u.targets) {
          const now = t.health.toLowerCase()
          for (const state of HEALTH_STATES)
            this.labels(u.name, t.target, t.target, state, 'http').set(state === now ? 1 : 0)
        }
      }
    },
  })
  // the PING runs before the registry collects (render): both Redis gauges read its result
  let ping: number | null = null
  new Gauge({
    name: 'portico_redis_ping_latency_ms',
    help: `PING round trip to the node's Redis at scrape time (absent when it failed or took over ${PING_BOUND_MS} ms)`,
    labelNames: ['url'],
    registers: [registry],
    collect() {
      this.reset()
      if (view.ping !== null && ping !== null) this.labels(view.ping.url).set(ping)
    },
  })
  new Gauge({
    name: 'portico_redis_reachable',
    help: 'Redis connection ready and answering (1) or not (0)',
    labelNames: ['url'],
    registers: [registry],
    collect() {
      this.reset()
      const reach = new Map(view.redis().map((r) => [r.url, r.status === 'ready' ? 1 : 0]))
      if (view.ping !== null && ping === null) reach.set(view.ping.url, 0)
      for (const [url, v] of reach) this.labels(url).set(v)
    },
  })
  new Gauge({
    name: 'portico_redis_breaker_state',
    help: 'the breaker of each Redis connection: 1 for its current state (closed, open, half-open), 0 for the others',
    labelNames: ['url', 'state'],
    registers: [registry],
    collect() {
      this.reset()
      for (const r of view.redis())
        for (const state of ['closed', 'open', 'half-open'])
          this.labels(r.url, state).set(r.breaker === state ? 1 : 0)
    },
  })
  for (const [name, help, field] of [
    [
      'portico_redis_breaker_opened_total',
      'times the breaker of each Redis connection opened',
      'breaker_opened',
    ],
    ['portico_redis_call_timeouts_total', 'Redis calls that missed their deadline', 'timeouts'],
    [
      'portico_redis_call_errors_total',
      'Redis calls that failed or were refused (down, breaker open, error reply)',
      'errors',
    ],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['url'],
      registers: [registry],
      collect() {
        this.reset()
        for (const r of view.redis()) this.labels(r.url).inc(r[field])
      },
    })
  }

  return {
    registry,
    contentType: registry.contentType,
    /** the whole exposition: this node's metrics, then the process metrics */
    async render(): Promise<string> {
      ping = view.ping === null ? null : await timedPing(view.ping.run)
      const [own, proc] = await Promise.all([registry.metrics(), processMetrics().metrics()])
      return `${own}\n${proc}`
    },
  }
}

export type Prometheus = ReturnType<typeof createPrometheus>
export type { Sample }

import type { CheckFn, LoadOptions, RequestSpec } from '../load.js'
import type { DemoUrls } from './stack.js'

/** What a scenario's runs are built from (flags of `portico bench scenario`). */
export interface ScenarioOptions {
  vus: number
  /** seconds per run */
  duration: number
  /** rate-limit scenario: the configured limit (requests per second) */
  limit: number
  /** rate-limit scenario: the offered load (requests per second); default twice the limit */
  rate: number | undefined
  /** plugins that can use Redis use it (cache strategy, rate-limit policy) */
  redisUrl: string | undefined
}

/** One measured run of a scenario: its own gateway configuration and load. */
export interface RunSpec {
  name: string
  description: string
  /** plugins its configuration uses; a missing one stops the scenario with a clear message */
  needs: string[]
  config(urls: DemoUrls): string
  load(base: string, o: ScenarioOptions): Omit<LoadOptions, 'duration'>
  /** requests sent (and not measured) before the run, e.g. to fill a cache */
  warmup?(base: string): Promise<void>
  /** the report shows this run's cache hit ratio (from the gateway's own cache counters) */
  measuresCache?: boolean
  /** an outage during the run: an instance is broken at `from` and healed at `to` (fractions of the duration) */
  outage?: Outage
}

/** What the resilience scenario does to the backend while its load runs, and what it counts. */
export interface Outage {
  from: number
  to: number
  break(urls: DemoUrls): Promise<void>
  heal(urls: DemoUrls): Promise<void>
  /** calls the broken instance has received so far */
  originCalls(urls: DemoUrls): Promise<number>
}

export interface Scenario {
  name: string
  title: string
  description: string
  /** the second run is an improvement on the first: the report shows the change in % */
  compare: boolean
  runs(o: ScenarioOptions): RunSpec[]
}

const ok2xx: CheckFn = (r) => r.status >= 200 && r.status < 300

const HEADER = '_format_version: "3.0"\n'
/** the same observability in every run, so it is not what differs between them */
const PROMETHEUS = `plugins:
  - name: prometheus
    config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }
`

function cachePlugin(o: ScenarioOptions, ttl: number): string {
  return `    plugins:
      - name: proxy-cache
        config:
          strategy: ${o.redisUrl === undefined ? 'memory' : 'redis'}
          cache_ttl: ${ttl}
          content_type: [application/json, "application/json; charset=utf-8"]
`
}

const inference = (u: DemoUrls) => `  - name: inference-python
    url: ${u['inference-a']}/infer
    read_timeout: 10000
    routes: [{ name: infer-python, paths: [/infer/python], methods: [POST] }]
  - name: inference-node
    url: ${u['inference-b']}/infer
    read_timeout: 10000
    routes: [{ name: infer-node, paths: [/infer/node], methods: [POST] }]
`

/**
 * The mixed workload of the baseline-vs-optimized comparison, the same in both runs: 60 %
 * `GET /slow` over 20 report pages, 20 % `GET /api/users`, 10 % each inference model.
 */
function mixed(base: string) {
  return ({ i }: { i: number }): RequestSpec => {
    const k = i % 10
    if (k < 6) return { url: `${base}/slow?page=${i % 20}` }
    if (k < 8) return { url: `${base}/api/users` }
    return {
      url: `${base}/infer/${k === 8 ? 'python' : 'node'}`,
      method: 'POST',
      body: { prompt: `hello ${i % 50}` },
    }
  }
}

const baselineVsOptimized: Scenario = {
  name: 'baseline-vs-optimized',
  title: 'Baseline vs optimized',
  description:
    'The same mixed load (60 % GET /slow over 20 pages, 20 % GET /api/users, 20 % POST inference) twice: ' +
    'baseline proxies every request straight to one instance, no cache; optimized adds proxy-cache on ' +
    '/slow and /api/users and balances /api/users over both users instances.',
  compare: true,
  runs: (o) => [
    {
      name: 'baseline',
      description: 'no cache, every request to the upstream, users on one instance',
      needs: ['prometheus'],
      config: (u) => `${HEADER}services:
  - name: slow
    url: ${u.slow}/slow
    routes: [{ name: slow, paths: [/slow], methods: [GET, HEAD] }]
  - name: users
    url: ${u['users-1']}/users
    routes: [{ name: users, paths: [/api/users] }]
${inference(u)}${PROMETHEUS}`,
      load: (base) => ({
        request: mixed(base),
        vus: o.vus,
        checks: { 'status 2xx': ok2xx },
      }),
      measuresCache: true,
    },
    {
      name: 'optimized',
      description: `proxy-cache (${o.redisUrl === undefined ? 'memory' : 'redis'}) on /slow and /api/users, users balanced over two instances`,
      needs: ['prometheus', 'proxy-cache'],
      config: (u) => `${HEADER}services:
  - name: slow
    url: ${u.slow}/slow
    routes: [{ name: slow, paths: [/slow], methods: [GET, HEAD] }]
${cachePlugin(o, 30)}  - name: users
    host: users.upstream
    path: /users
    routes: [{ name: users, paths: [/api/users] }]
${cachePlugin(o, 30)}${inference(u)}upstreams:
  - name: users.upstream
    algorithm: round-robin
    targets:
      - { target: ${new URL(u['users-1']).host}, weight: 100 }
      - { target: ${new URL(u['users-2']).host}, weight: 100 }
${PROMETHEUS}`,
      load: (base) => ({
        request: mixed(base),
        vus: o.vus,
        checks: { 'status 2xx': ok2xx },
      }),
      measuresCache: true,
    },
  ],
}

const cacheConfig = (o: ScenarioOptions) => (u: DemoUrls) =>
  `${HEADER}services:
  - name: slow
    url: ${u.slow}/slow
    routes: [{ name: slow, paths: [/slow], methods: [GET, HEAD] }]
${cachePlugin(o, 300)}${PROMETHEUS}`

const cache: Scenario = {
  name: 'cache',
  title: 'Cache: MISS then HIT',
  description:
    'GET /slow through proxy-cache: first every request with a new query (always a miss, the upstream ' +
    'answers), then the same URL again and again after one warm-up request (always a hit).',
  compare: true,
  runs: (o) => [
    {
      name: 'miss',
      description: 'a new cache key per request: X-Cache-Status: Miss',
      needs: ['prometheus', 'proxy-cache'],
      config: cacheConfig(o),
      load: (base) => ({
        request: { url: `${base}/slow?nocache={{i}}-{{uuid}}` },
        vus: o.vus,
        checks: { 'X-Cache-Status: Miss': (r) => r.headers['x-cache-status'] === 'Miss' },
      }),
      measuresCache: true,
    },
    {
      name: 'hit',
      description: 'one cache key, filled before the run: X-Cache-Status: Hit',
      needs: ['prometheus', 'proxy-cache'],
      config: cacheConfig(o),
      warmup: async (base) => {
        await (await fetch(`${base}/slow?report=cached`)).arrayBuffer()
      },
      load: (base) => ({
        request: { url: `${base}/slow?report=cached` },
        vus: o.vus,
        checks: { 'X-Cache-Status: Hit': (r) => r.headers['x-cache-status'] === 'Hit' },
      }),
      measuresCache: true,
    },
  ],
}

const rateLimit: Scenario = {
  name: 'rate-limit',
  title: 'Rate limit',
  description:
    'GET /limited offered at a constant arrival rate above the configured per-second limit: the gateway ' +
    'should accept about the limit each second and answer the rest 429 with Retry-After.',
  compare: false,
  runs: (o) => [
    {
      name: 'limited',
      description: `rate-limiting second=${o.limit} (${o.redisUrl === undefined ? 'local' : 'redis'} policy), offered ${o.rate ?? o.limit * 2} req/s`,
      needs: ['prometheus', 'rate-limiting'],
      config: (u) => `${HEADER}services:
  - name: limited
    url: ${u['users-1']}/users
    routes: [{ name: limited, paths: [/limited] }]
    plugins:
      - name: rate-limiting
        config: { second: ${o.limit}, policy: ${o.redisUrl === undefined ? 'local' : 'redis'}, limit_by: ip }
${PROMETHEUS}`,
      load: (base) => ({
        request: { url: `${base}/limited` },
        rate: o.rate ?? o.limit * 2,
        maxVus: o.vus,
        expectStatus: [200, 429],
        checks: { 'Retry-After on 429': (r) => r.status !== 429 || r.headers['retry-after'] !== undefined },
      }),
    },
  ],
}

const inferenceScenario: Scenario = {
  name: 'inference',
  title: 'Inference',
  description: 'POST JSON prompts to each inference route in turn: /infer/python, then /infer/node.',
  compare: false,
  runs: (o) =>
    (['python', 'node'] as const).map((model) => ({
      name: model,
      description: `POST /infer/${model} {"prompt": "…"}`,
      needs: ['prometheus'],
      config: (u: DemoUrls) => `${HEADER}services:\n${inference(u)}${PROMETHEUS}`,
      load: (base: string) => ({
        request: {
          url: `${base}/infer/${model}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"prompt":"summarise request {{i}} for client {{vu}}"}',
        },
        vus: o.vus,
        checks: {
          'status 200': (r) => r.status === 200,
          'answered by the model': (r) => r.body.includes(`"model":"${model}"`),
        },
      }),
    })),
}

const flakyOutage: Outage = {
  from: 0.3,
  to: 0.7,
  break: async (u) => {
    await (
      await fetch(`${u['inference-flaky']}/admin/fail`, { method: 'POST', body: '{"status":503}' })
    ).arrayBuffer()
  },
  heal: async (u) => {
    await (await fetch(`${u['inference-flaky']}/admin/fail`, { method: 'DELETE' })).arrayBuffer()
  },
  originCalls: async (u) =>
    ((await (await fetch(`${u['inference-flaky']}/stats`)).json()) as { calls: number }).calls,
}

/** /infer/node balanced over inference-b and inference-flaky, with or without a breaker per instance. */
const resilienceConfig = (o: ScenarioOptions, breaker: boolean) => (u: DemoUrls) =>
  `${HEADER}services:
  - name: inference-node
    host: inference-node.upstream
    path: /infer
    read_timeout: 10000
    routes: [{ name: infer-node, paths: [/infer/node], methods: [POST] }]
${
  breaker
    ? `    plugins:
      - name: circuit-breaker
        config: { scope: target, policy: ${o.redisUrl === undefined ? 'local' : 'redis'}, window_seconds: 2, minimum_calls: 10, open_seconds: 2, max_open_seconds: 8, half_open_calls: 3 }
`
    : ''
}upstreams:
  - name: inference-node.upstream
    targets:
      - { target: ${new URL(u['inference-b']).host} }
      - { target: ${new URL(u['inference-flaky']).host} }
${PROMETHEUS}`

const resilience: Scenario = {
  name: 'resilience',
  title: 'Resilience: an instance fails mid-run',
  description:
    'POST /infer/node balanced over two instances; inference-flaky is switched to answer 503 from 30 % to 70 % ' +
    'of the run, then healed. Without a breaker half the requests of the outage fail and the sick instance ' +
    'keeps taking its share; with a circuit breaker per target (scope target) it leaves the balancer after ' +
    'minimum_calls failures, only trial calls reach it, and it comes back once they succeed.',
  compare: true,
  runs: (o) =>
    (['breaker-off', 'breaker-on'] as const).map((name) => ({
      name,
      description:
        name === 'breaker-off'
          ? 'no circuit breaker: round-robin keeps sending to the failing instance'
          : `circuit-breaker scope target (${o.redisUrl === undefined ? 'local' : 'redis'} policy), a 2 s window (the healthy calls before the outage age out of it fast), minimum_calls 10, open 2 s doubling to 8 s, 3 trial calls`,
      needs: name === 'breaker-on' ? ['prometheus', 'circuit-breaker'] : ['prometheus'],
      config: resilienceConfig(o, name === 'breaker-on'),
      load: (base: string) => ({
        request: {
          url: `${base}/infer/node`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"prompt":"classify request {{i}} for client {{vu}}"}',
        },
        vus: o.vus,
        expectStatus: [200],
        checks: { 'status 200': (r) => r.status === 200 },
      }),
      outage: flakyOutage,
    })),
}

/** Every scenario `portico bench scenario NAME` knows. */
export const SCENARIOS: readonly Scenario[] = [
  baselineVsOptimized,
  rateLimit,
  cache,
  inferenceScenario,
  resilience,
]

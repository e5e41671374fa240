import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { call, gateway, upstream } from '../fixtures/helpers.js'
import { type ParsedSample, parseExposition, samples, value } from '../fixtures/metrics-text.js'

let a: Awaited<ReturnType<typeof upstream>>
let b: Awaited<ReturnType<typeof upstream>>
before(async () => {
  a = await upstream('a')
  b = await upstream('b')
})
after(async () => {
  await Promise.all([a.close(), b.close()])
})

const metricsOf = async (port: number) =>
  parseExposition((await call(`http://127.0.0.1:${port}/metrics`)).text)

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

test('upstream target health is exported, at scrape time, when a prometheus instance asks for it', async () => {
  const config = (health: boolean) => `
_format_version: "3.0"
upstreams:
  - name: pool
    targets: [{ target: "127.0.0.1:${a.port}" }, { target: "127.0.0.1:${b.port}" }]
services:
  - name: pooled
    host: pool
    routes: [{ name: pooled, paths: [/p] }]
plugins:
  - name: prometheus
    config: { upstream_health_metrics: ${health} }
`
  const node = await gateway(config(true))
  try {
    const all = await metricsOf(node.status!.port)
    for (const port of [a.port, b.port]) {
      const target = `127.0.0.1:${port}`
      const state = (s: string) =>
        value(all, 'kong_upstream_target_health', {
          upstream: 'pool',
          target,
          address: target,
          state: s,
          subsystem: 'http',
        })
      assert.equal(state('healthchecks_off'), 1)
      assert.equal(state('healthy'), 0)
      assert.equal(state('unhealthy'), 0)
      assert.equal(state('dns_error'), 0)
    }
    // configuration version and reload time follow the runtime
    assert.equal(value(all, 'portico_config_generation'), 1)
    const loaded1 = value(all, 'portico_config_last_reload_timestamp_seconds')!
    assert.ok(Math.abs(loaded1 - Date.now() / 1000) < 60)
    writeFileSync(node.file!, config(false))
    const r = await node.reload()
    assert.equal(r.ok, true)
    const next = await metricsOf(node.status!.port)
    assert.equal(value(next, 'portico_config_generation'), 2)
    assert.equal(samples(next, 'portico_config_info')[0]!.labels.hash, node.gateway.runtime.hash)
    assert.ok(value(next, 'portico_config_last_reload_timestamp_seconds')! >= loaded1)
    // turned off by the reload: no longer exported
    assert.equal(samples(next, 'kong_upstream_target_health').length, 0)
  } finally {
    await node.stop()
  }
})

test("Redis reachability and a bounded PING latency for the node's Redis", async (t) => {
  const url = process.env.REDIS_URL
  if (url === undefined) return t.skip('REDIS_URL is not set')
  const live = await gateway(null, { redisUrl: url })
  try {
    let all = await metricsOf(live.status!.port)
    for (let i = 0; i < 50 && value(all, 'portico_redis_reachable', { url }) !== 1; i++) {
      await new Promise((r) => setTimeout(r, 50))
      all = await metricsOf(live.status!.port)
    }
    assert.equal(value(all, 'portico_redis_reachable', { url }), 1)
    const ping = value(all, 'portico_redis_ping_latency_ms', { url })
    assert.ok(ping !== undefined && ping >= 0)
  } finally {
    await live.stop()
  }
  const deadUrl = `redis://127.0.0.1:${await closedPort()}`
  const dead = await gateway(null, { redisUrl: deadUrl })
  try {
    const all = await metricsOf(dead.status!.port)
    assert.equal(value(all, 'portico_redis_reachable', { url: deadUrl }), 0)
    assert.equal(samples(all, 'portico_redis_ping_latency_ms').length, 0)
  } finally {
    await dead.stop()
  }
})

test('metrics off, or nowhere to serve them: no observer is installed at all', async () => {
  const off = await gateway(null, { metrics: false })
  const noListener = await gateway(null, { status: null })
  const onProxy = await gateway(null, { status: null, statusOnProxy: true })
  try {
    assert.equal(off.gateway.observers.length, 0)
    assert.equal((await call(`http://127.0.0.1:${off.status!.port}/metrics`)).status, 404)
    assert.equal(noListener.gateway.observers.length, 0)
    // served on the proxy listener instead: on, and the scrape itself is not counted as traffic
    assert.equal(onProxy.gateway.observers.length, 1)
    await call(`${onProxy.url}/metrics`)
    const all = parseExposition((await call(`${onProxy.url}/metrics`)).text)
    assert.equal(
      samples(all, 'portico_node_requests_total').reduce((n, s) => n + s.value, 0),
      0,
    )
  } finally {
    await Promise.all([off.stop(), noListener.stop(), onProxy.stop()])
  }
})

/** Scrapes until the node has counted `n` requests (an observer runs when the response closes). */
async function scrapeCounted(port: number, n: number): Promise<ParsedSample[]> {
  for (let i = 0; ; i++) {
    const all = await metricsOf(port)
    const counted = samples(all, 'portico_node_requests_total').reduce((a, x) => a + x.value, 0)
    if (counted >= n || i === 50) return all
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('/metrics after a mixed load through the real plugins: every figure matches the load, exactly', async (t) => {
  const node = await gateway(`
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: cached
    url: ${a.url}
    routes: [{ name: cached, paths: [/cached] }]
    plugins: [{ name: proxy-cache, config: { strategy: memory } }]
  - name: limited
    url: ${a.url}
    routes: [{ name: limited, paths: [/limited] }]
    plugins: [{ name: rate-limiting, config: { day: 5, policy: local, limit_by: ip } }]
  - name: secure
    url: ${b.url}
    routes: [{ name: secure, paths: [/secure] }]
    plugins: [{ name: key-auth }]
  - name: broken
    url: http://127.0.0.1:${await closedPort()}
    retries: 0
    routes: [{ name: broken, paths: [/broken] }]
plugins:
  - name: prometheus
    config: { status_code_metrics: true, latency_metrics: true, per_consumer: true }
`)
  try {
    // The load, sent all at once in a fixed shuffled order: 4 cached pages × 5 requests,
    // 8 requests against a limit of 5, 3 with a valid key, 2 without one and 1 with a wrong one,
    // 2 to a dead upstream, 3 that match no route.
    const load: Array<{ path: string; headers?: Record<string, string>; expect: number }> = []
    for (let i = 0; i < 20; i++) load.push({ path: `/cached/page-${i % 4}`, expect: 200 })
    for (let i = 0; i < 8; i++) load.push({ path: '/limited', expect: -1 })
    for (let i = 0; i < 3; i++) load.push({ path: '/secure', headers: { apikey: 'alice-key' }, expect: 200 })
    for (let i = 0; i < 2; i++) load.push({ path: '/secure', expect: 401 })
    load.push({ path: '/secure', headers: { apikey: 'nope' }, expect: 401 })
    for (let i = 0; i < 2; i++) load.push({ path: '/broken', expect: 502 })
    for (let i = 0; i < 3; i++) load.push({ path: `/nowhere/${i}`, expect: 404 })
    for (let i = load.length - 1, seed = 7; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const j = seed % (i + 1)
      ;[load[i], load[j]] = [load[j]!, load[i]!]
    }
    const answers = await Promise.all(
      load.map(async (l) => ({ l, r: await call(`${node.url}${l.path}`, { headers: l.headers ?? {} }) })),
    )
    for (const { l, r } of answers) if (l.expect !== -1) assert.equal(r.status, l.expect, l.path)
    const limited = answers.filter((x) => x.l.path === '/limited').map((x) => x.r.status)
    assert.equal(limited.filter((s) => s === 200).length, 5)
    assert.equal(limited.filter((s) => s === 429).length, 3)

    const all = await scrapeCounted(node.status!.port, load.length)
    const req = (route: string, code: string, source: string, consumer = '') =>
      value(all, 'kong_http_requests_total', {
        service: route,
        route,
        code,
        source,
        workspace: 'default',
        consumer,
      })
    const figures = {
      cached_miss_upstream: req('cached', '200', 'service'),
      cached_hit_gateway: req('cached', '200', 'kong'),
      limited_200: req('limited', '200', 'service'),
      limited_429: req('limited', '429', 'kong'),
      secure_200_alice: req('secure', '200', 'service', 'alice'),
      secure_401: req('secure', '401', 'kong'),
      broken_502: req('broken', '502', 'kong'),
      // Kong's exporter records nothing for a request without a route
      unmatched_404: value(all, 'kong_http_requests_total', {
        service: '',
        route: '',
        code: '404',
        source: 'kong',
        workspace: 'default',
        consumer: '',
      }),
      node_2xx: value(all, 'portico_node_requests_total', { code_class: '2xx' }),
      node_4xx: value(all, 'portico_node_requests_total', { code_class: '4xx' }),
      node_5xx: value(all, 'portico_node_requests_total', { code_class: '5xx' }),
      cache_hit: value(all, 'portico_cache_requests_total', { status: 'hit' }),
      cache_miss: value(all, 'portico_cache_requests_total', { status: 'miss' }),
      rate_limit_allowed: value(all, 'portico_rate_limit_requests_total', { outcome: 'allowed' }),
      rate_limit_rejected: value(all, 'portico_rate_limit_requests_total', { outcome: 'rejected' }),
      cached_request_latency_count: value(all, 'kong_request_latency_ms_count', {
        service: 'cached',
        route: 'cached',
        workspace: 'default',
      }),
      cached_upstream_latency_count: value(all, 'kong_upstream_latency_ms_count', {
        service: 'cached',
        route: 'cached',
        workspace: 'default',
      }),
    }
    t.diagnostic(`${load.length} requests; /metrics: ${JSON.stringify(figures)}`)
    assert.deepEqual(figures, {
      // one miss per page (concurrent misses collapse), every other request a hit from the gateway
      cached_miss_upstream: 4,
      cached_hit_gateway: 16,
      limited_200: 5,
      limited_429: 3,
      secure_200_alice: 3,
      secure_401: 3,
      broken_502: 2,
      unmatched_404: undefined,
      node_2xx: 28,
      node_4xx: 9,
      node_5xx: 2,
      cache_hit: 16,
      cache_miss: 4,
      rate_limit_allowed: 5,
      rate_limit_rejected: 3,
      cached_request_latency_count: 20,
      cached_upstream_latency_count: 4,
    })
    // nothing else was counted: the labelled series add up to the load that matched a route
    const labelled = samples(all, 'kong_http_requests_total')
    assert.equal(
      labelled.reduce((n, s) => n + s.value, 0),
      load.length - 3,
      JSON.stringify(labelled),
    )
    // /cachez tells the same story
    const z = (await call(`http://127.0.0.1:${node.status!.port}/cachez`)).json() as Record<string, unknown>
    assert.deepEqual(
      { hits: z.hits, misses: z.misses, hit_ratio: z.hit_ratio, entries: z.entries },
      { hits: 16, misses: 4, hit_ratio: 0.8, entries: 4 },
    )
  } finally {
    await node.stop()
  }
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { PluginDefinition } from '../../src/core/plugin.js'
import type { NodeSettings } from '../../src/main.js'
import { CACHE_STATUS } from '../../src/plugins/proxy-cache/state.js'
import { RATE_LIMIT } from '../../src/plugins/rate-limiting/stats.js'
import { QUEUED } from '../../src/plugins/request-queue/stats.js'
import { call, gateway, upstream } from '../fixtures/helpers.js'
import { type ParsedSample, parseExposition, samples, value } from '../fixtures/metrics-text.js'
import { testPlugin } from '../fixtures/plugins.js'

/** Sets ctx.consumer from `x-consumer` (as an auth plugin would), and the plugins' outcome slots from headers. */
const testConsumer = testPlugin('test-consumer', 1000, () => ({
  access(ctx) {
    const name = ctx.header('x-consumer')
    if (name !== undefined) ctx.consumer = { id: `id-${name}`, username: name }
    // the real plugins' slots: their registered series count whatever a request holds
    ctx.set(CACHE_STATUS, (ctx.header('x-test-cache') ?? '') as never)
    ctx.set(RATE_LIMIT, (ctx.header('x-test-rate') ?? '') as never)
    ctx.set(QUEUED, (ctx.header('x-test-queue') ?? '') as never)
    return undefined
  },
}))

async function scrape(port: number): Promise<{ text: string; all: ParsedSample[] }> {
  const res = await call(`http://127.0.0.1:${port}/metrics`)
  assert.equal(res.status, 200)
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  return { text: res.text, all: parseExposition(res.text) }
}

/** Scrapes until the node has counted `n` requests (an observer runs when the response closes). */
async function scrapeAfter(port: number, n: number) {
  for (let i = 0; ; i++) {
    const s = await scrape(port)
    const counted = samples(s.all, 'portico_node_requests_total').reduce((a, x) => a + x.value, 0)
    if (counted >= n || i === 50) return s
    await new Promise((r) => setTimeout(r, 20))
  }
}

let alpha: Awaited<ReturnType<typeof upstream>>
/** A node with the `alpha` service and its route, and one global plugin (a YAML flow mapping). */
const alphaNode = (plugin: string, settings: Partial<NodeSettings> = {}, extra: PluginDefinition[] = []) =>
  gateway(
    `_format_version: "3.0"
services:
  - name: alpha
    url: ${alpha.url}
    routes: [{ name: alpha-route, paths: [/alpha] }]
plugins:
  - ${plugin}
`,
    settings,
    extra,
  )
let beta: Awaited<ReturnType<typeof upstream>>
let dark: Awaited<ReturnType<typeof upstream>>

before(async () => {
  alpha = await upstream('alpha')
  beta = await upstream('beta', (req, res) => {
    const missing = req.url!.includes('missing')
    res.writeHead(missing ? 404 : 200, { 'content-type': 'application/json' })
    res.end(missing ? '{"message":"nope"}' : '{"ok":true}')
  })
  dark = await upstream('dark')
})
after(async () => {
  await Promise.all([alpha.close(), beta.close(), dark.close()])
})

test('/metrics after a mixed load: every labelled figure and node total matches what was sent', async () => {
  const node = await gateway(
    `
_format_version: "3.0"
services:
  - name: alpha
    url: ${alpha.url}
    routes: [{ name: alpha-route, paths: [/alpha] }]
    plugins:
      - name: prometheus
        config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, per_consumer: true }
  - name: beta
    url: ${beta.url}
    routes: [{ name: beta-route, paths: [/beta] }]
    plugins:
      - name: prometheus
        config: { status_code_metrics: true, per_consumer: true }
  - name: broken
    url: http://127.0.0.1:1
    retries: 0
    routes: [{ name: broken-route, paths: [/broken] }]
    plugins:
      - name: prometheus
        config: { status_code_metrics: true, latency_metrics: true, per_consumer: true }
  - name: dark
    url: ${dark.url}
    routes: [{ name: dark-route, paths: [/dark] }]
plugins:
  - name: test-consumer
`,
    {},
    [testConsumer],
  )
  try {
    const send = async (path: string, times: number, consumer?: string, expect = 200) => {
      for (let i = 0; i < times; i++) {
        const res = await call(`${node.url}${path}`, { headers: consumer ? { 'x-consumer': consumer } : {} })
        assert.equal(res.status, expect, `${path} as ${consumer}`)
      }
    }
    await send('/alpha', 7, 'alice')
    await send('/alpha', 5, 'bob')
    await send('/alpha', 3)
    await send('/beta', 4, 'alice')
    await send('/beta/missing', 2, 'alice', 404)
    await send('/broken', 3, 'bob', 502)
    await send('/nowhere', 4, undefined, 404)
    await send('/dark', 6, 'alice')
    const { all } = await scrapeAfter(node.status!.port, 34)

    const req = (service: string, route: string, code: string, source: string, consumer: string) =>
      value(all, 'kong_http_requests_total', { service, route, code, source, workspace: 'default', consumer })
    assert.equal(req('alpha', 'alpha-route', '200', 'service', 'alice'), 7)
    assert.equal(req('alpha', 'alpha-route', '200', 'service', 'bob'), 5)
    assert.equal(req('alpha', 'alpha-route', '200', 'service', ''), 3)
    assert.equal(req('beta', 'beta-route', '200', 'service', 'alice'), 4)
    assert.equal(req('beta', 'beta-route', '404', 'service', 'alice'), 2)
    assert.equal(req('broken', 'broken-route', '502', 'kong', 'bob'), 3)
    // Kong: only services/routes running the plugin are labelled; unmatched requests have no plugin here
    const labelled = samples(all, 'kong_http_requests_total')
    assert.equal(labelled.length, 6, JSON.stringify(labelled))
    assert.equal(
      labelled.reduce((a, s) => a + s.value, 0),
      24,
    )
    assert.equal(samples(all, 'kong_http_requests_total', { service: 'dark' }).length, 0)

    // node totals count everything, dark route and unmatched requests included
    assert.equal(value(all, 'portico_node_requests_total', { code_class: '2xx' }), 25)
    assert.equal(value(all, 'portico_node_requests_total', { code_class: '4xx' }), 6)
    assert.equal(value(all, 'portico_node_requests_total', { code_class: '5xx' }), 3)

    // latency histograms: alpha has all three; broken never got upstream headers; beta asked for none
    const count = (name: string, service: string, route: string) =>
      value(all, `${name}_count`, { service, route, workspace: 'default' })
    assert.equal(count('kong_request_latency_ms', 'alpha', 'alpha-route'), 15)
    assert.equal(count('kong_upstream_latency_ms', 'alpha', 'alpha-route'), 15)
    assert.equal(count('kong_kong_latency_ms', 'alpha', 'alpha-route'), 15)
    assert.equal(count('kong_request_latency_ms', 'broken', 'broken-route'), 3)
    assert.equal(count('kong_kong_latency_ms', 'broken', 'broken-route'), 3)
    assert.equal(count('kong_upstream_latency_ms', 'broken', 'broken-route'), undefined)
    assert.equal(count('kong_request_latency_ms', 'beta', 'beta-route'), undefined)
    // Kong's buckets, cumulative, ending in +Inf = count
    const gw = samples(all, 'kong_kong_latency_ms_bucket', { service: 'alpha' })
    assert.deepEqual(
      gw.map((s) => s.labels.le),
      [
        '1',
        '2',
        '5',
        '7',
        '10',
        '15',
        '20',
        '30',
        '50',
        '75',
        '100',
        '200',
        '500',
        '750',
        '1000',
        '3000',
        '6000',
        '+Inf',
      ],
    )
    assert.equal(gw.at(-1)!.value, 15)
    for (let i = 1; i < gw.length; i++) assert.ok(gw[i]!.value >= gw[i - 1]!.value)
    const up = samples(all, 'kong_upstream_latency_ms_bucket', { service: 'alpha' }).map((s) => s.labels.le)
    assert.deepEqual(up.slice(0, 4), ['25', '50', '80', '100'])

    // bandwidth only where asked for (alpha), per consumer
    for (const consumer of ['alice', 'bob', '']) {
      for (const direction of ['ingress', 'egress']) {
        const v = value(all, 'kong_bandwidth_bytes', {
          service: 'alpha',
          route: 'alpha-route',
          direction,
          workspace: 'default',
          consumer,
        })
        assert.ok(v !== undefined && v > 0, `${direction} ${consumer}`)
      }
    }
    assert.equal(samples(all, 'kong_bandwidth_bytes', { service: 'beta' }).length, 0)

    // process metrics and config
    assert.ok(samples(all, 'process_cpu_user_seconds_total').length === 1)
    assert.ok(samples(all, 'nodejs_eventloop_lag_seconds').length === 1)
    assert.equal(value(all, 'portico_config_generation'), 1)
    assert.equal(value(all, 'portico_node_info', { version: '0.1.0' }), 1)
    const hash = samples(all, 'portico_config_info')
    assert.equal(hash.length, 1)
    assert.equal(hash[0]!.labels.hash, node.gateway.runtime.hash)
  } finally {
    await node.stop()
  }
})

test("a global prometheus instance: unmatched requests feed node totals only (Kong's exporter skips a request without a route)", async () => {
  const node = await alphaNode('{ name: prometheus, config: { status_code_metrics: true } }')
  try {
    for (let i = 0; i < 3; i++) assert.equal((await call(`${node.url}/alpha`)).status, 200)
    for (let i = 0; i < 2; i++) assert.equal((await call(`${node.url}/nope`)).status, 404)
    // built-in endpoints are not traffic
    assert.equal((await call(`${node.url}/healthz`)).status, 200)
    const { all } = await scrapeAfter(node.status!.port, 5)
    const code = (service: string, route: string, c: string) =>
      value(all, 'kong_http_requests_total', {
        service,
        route,
        code: c,
        source: c === '200' ? 'service' : 'kong',
        workspace: 'default',
        consumer: '',
      })
    assert.equal(code('alpha', 'alpha-route', '200'), 3)
    assert.equal(code('', '', '404'), undefined)
    assert.equal(samples(all, 'kong_http_requests_total').length, 1)
    assert.equal(value(all, 'portico_node_requests_total', { code_class: '2xx' }), 3)
    assert.equal(value(all, 'portico_node_requests_total', { code_class: '4xx' }), 2)
    // defaults: no latency, bandwidth or upstream health
    assert.equal(samples(all, 'kong_request_latency_ms_count').length, 0)
    assert.equal(samples(all, 'kong_bandwidth_bytes').length, 0)
    assert.equal(samples(all, 'kong_upstream_target_health').length, 0)
  } finally {
    await node.stop()
  }
})

test('bandwidth counts the exact bytes of the request and the response on the wire', async () => {
  const node = await alphaNode('{ name: prometheus, config: { bandwidth_metrics: true } }')
  try {
    const net = await import('node:net')
    const request = 'POST /alpha HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'
    const received = await new Promise<number>((resolve, reject) => {
      let n = 0
      const s = net.connect(node.proxy.port, '127.0.0.1', () => s.write(request))
      s.on('data', (d: Buffer) => {
        n += d.length
      })
      s.on('close', () => resolve(n))
      s.on('error', reject)
    })
    const { all } = await scrapeAfter(node.status!.port, 1)
    const bw = (direction: string) =>
      value(all, 'kong_bandwidth_bytes', {
        service: 'alpha',
        route: 'alpha-route',
        direction,
        workspace: 'default',
        consumer: '',
      })
    assert.equal(bw('ingress'), Buffer.byteLength(request))
    assert.equal(bw('egress'), received)
    assert.equal(
      value(all, 'portico_node_bandwidth_bytes', { direction: 'ingress' }),
      Buffer.byteLength(request),
    )
    assert.equal(value(all, 'portico_node_bandwidth_bytes', { direction: 'egress' }), received)
  } finally {
    await node.stop()
  }
})

test("the outcomes plugins registered (proxy-cache's, rate-limiting's, request-queue's slots) are counted", async () => {
  const node = await alphaNode('{ name: test-consumer }', {}, [testConsumer])
  try {
    const send = (headers: Record<string, string>) => call(`${node.url}/alpha`, { headers })
    for (const c of ['Hit', 'Hit', 'Hit', 'Miss', 'Bypass', 'Refresh']) await send({ 'x-test-cache': c })
    for (const r of ['allowed', 'allowed', 'rejected']) await send({ 'x-test-rate': r })
    for (const q of ['waited', 'rejected', 'rejected']) await send({ 'x-test-queue': q })
    const { all } = await scrapeAfter(node.status!.port, 12)
    assert.equal(value(all, 'portico_cache_requests_total', { status: 'hit' }), 3)
    assert.equal(value(all, 'portico_cache_requests_total', { status: 'miss' }), 1)
    assert.equal(value(all, 'portico_cache_requests_total', { status: 'bypass' }), 1)
    assert.equal(value(all, 'portico_cache_requests_total', { status: 'refresh' }), 1)
    assert.equal(value(all, 'portico_rate_limit_requests_total', { outcome: 'allowed' }), 2)
    assert.equal(value(all, 'portico_rate_limit_requests_total', { outcome: 'rejected' }), 1)
    assert.equal(value(all, 'portico_queue_requests_total', { outcome: 'waited' }), 1)
    assert.equal(value(all, 'portico_queue_requests_total', { outcome: 'rejected' }), 2)
  } finally {
    await node.stop()
  }
})

test('the Admin API serves /metrics too (as Kong does), also on a node without a status listener', async () => {
  const node = await alphaNode('{ name: prometheus, config: { status_code_metrics: true } }', {
    status: null,
    admin: { host: '127.0.0.1', port: 0 },
  })
  const off = await gateway(null, { status: null, admin: { host: '127.0.0.1', port: 0 }, metrics: false })
  try {
    for (let i = 0; i < 2; i++) assert.equal((await call(`${node.url}/alpha`)).status, 200)
    let all: ParsedSample[] = []
    for (let i = 0; i < 50; i++) {
      const res = await call(`http://127.0.0.1:${node.admin!.port}/metrics`)
      assert.equal(res.status, 200)
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/)
      all = parseExposition(res.text)
      if (samples(all, 'portico_node_requests_total').reduce((a, x) => a + x.value, 0) >= 2) break
      await new Promise((r) => setTimeout(r, 20))
    }
    const counted = {
      service: 'alpha',
      route: 'alpha-route',
      code: '200',
      source: 'service',
      workspace: 'default',
      consumer: '',
    }
    assert.equal(value(all, 'kong_http_requests_total', counted), 2)

    const res = await call(`http://127.0.0.1:${off.admin!.port}/metrics`)
    assert.equal(res.status, 404)
    assert.match(res.text, /metrics are off/)
  } finally {
    await Promise.all([node.stop(), off.stop()])
  }
})

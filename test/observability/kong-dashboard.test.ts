import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { call, gateway, upstream } from '../fixtures/helpers.js'
import { parseExposition, samples } from '../fixtures/metrics-text.js'

/**
 * Kong's official Grafana dashboard (Kong/kong, kong/plugins/prometheus/grafana/kong-official.json
 * at 5ca840500760b72336600bedd6db053e104009cf), kept as test data: Portico's /metrics must
 * answer every query in it unchanged.
 */
const DASHBOARD = new URL('../../../test/observability/fixtures/kong-official.json', import.meta.url)

/** Every metric name the dashboard's queries and template variables read (histograms by base name). */
function dashboardMetrics(): string[] {
  const names = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== 'object') return
    for (const [key, v] of Object.entries(node)) {
      if (typeof v === 'string' && (key === 'expr' || key === 'query' || key === 'definition')) {
        // a metric name is an identifier not followed by a label matcher (`name=`, `name=~`)
        for (const m of v.matchAll(/\b(kong_[a-z0-9_]+)\b(?!\s*[=!]~?)/g))
          names.add(m[1]!.replace(/_(bucket|sum|count)$/, ''))
      } else walk(v)
    }
  }
  walk(JSON.parse(readFileSync(DASHBOARD, 'utf8')))
  return [...names].sort()
}

let up: Awaited<ReturnType<typeof upstream>>
before(async () => {
  up = await upstream('dash')
})
after(async () => {
  await up.close()
})

test("Kong's official Grafana dashboard: every metric name its queries use is on /metrics after traffic", async () => {
  const wanted = dashboardMetrics()
  assert.deepEqual(wanted, [
    'kong_bandwidth_bytes',
    'kong_http_requests_total',
    'kong_kong_latency_ms',
    'kong_memory_lua_shared_dict_bytes',
    'kong_memory_lua_shared_dict_total_bytes',
    'kong_memory_workers_lua_vms_bytes',
    'kong_nginx_connections_total',
    'kong_request_latency_ms',
    'kong_upstream_latency_ms',
    'kong_upstream_target_health',
  ])
  const node = await gateway(`
_format_version: "3.0"
upstreams:
  - name: pool
    targets: [{ target: "127.0.0.1:${up.port}" }]
services:
  - name: dash
    host: pool
    routes: [{ name: dash-route, paths: [/dash] }]
    plugins: [{ name: proxy-cache, config: { strategy: memory } }]
plugins:
  - name: prometheus
    config:
      status_code_metrics: true
      latency_metrics: true
      bandwidth_metrics: true
      upstream_health_metrics: true
      per_consumer: true
`)
  try {
    for (let i = 0; i < 3; i++) assert.equal((await call(`${node.url}/dash/page`)).status, 200)
    let all = parseExposition((await call(`http://127.0.0.1:${node.status!.port}/metrics`)).text)
    for (let i = 0; i < 50 && samples(all, 'kong_http_requests_total').length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20))
      all = parseExposition((await call(`http://127.0.0.1:${node.status!.port}/metrics`)).text)
    }
    const missing = wanted.filter(
      (name) => samples(all, name).length === 0 && samples(all, `${name}_bucket`).length === 0,
    )
    assert.deepEqual(missing, [], 'dashboard metrics absent from /metrics')

    // Kong's label sets, as the dashboard's `by (…)` clauses and Kong's alerts read them
    const labelsOf = (name: string) => Object.keys(samples(all, name)[0]!.labels).sort()
    assert.deepEqual(labelsOf('kong_http_requests_total'), [
      'code',
      'consumer',
      'route',
      'service',
      'source',
      'workspace',
    ])
    assert.deepEqual(labelsOf('kong_kong_latency_ms_bucket'), ['le', 'route', 'service', 'workspace'])
    assert.deepEqual(labelsOf('kong_bandwidth_bytes'), [
      'consumer',
      'direction',
      'route',
      'service',
      'workspace',
    ])
    assert.deepEqual(labelsOf('kong_upstream_target_health'), [
      'address',
      'state',
      'subsystem',
      'target',
      'upstream',
    ])
    assert.deepEqual(labelsOf('kong_memory_lua_shared_dict_bytes'), [
      'kong_subsystem',
      'node_id',
      'shared_dict',
    ])
    assert.deepEqual(
      samples(all, 'kong_nginx_connections_total')
        .map((s) => s.labels.state)
        .sort(),
      ['accepted', 'active', 'handled', 'total', 'waiting', 'writing'],
    )
    // the figures are the node's own: requests answered, the cache dictionary's budget, reachability
    const at = (name: string, labels: Record<string, string>) => samples(all, name, labels)[0]?.value
    assert.ok(at('kong_nginx_connections_total', { state: 'total' })! >= 3)
    assert.ok(at('kong_nginx_connections_total', { state: 'accepted' })! >= 1)
    assert.equal(
      at('kong_memory_lua_shared_dict_total_bytes', { shared_dict: 'kong_db_cache' }),
      64 * 1024 * 1024,
    )
    assert.ok(at('kong_memory_lua_shared_dict_bytes', { shared_dict: 'kong_db_cache' })! > 0)
    assert.equal(at('kong_datastore_reachable', {}), 1)
    assert.equal(at('kong_upstream_target_health', { state: 'healthchecks_off' }), 1)
    assert.equal(
      samples(all, 'kong_http_requests_total').reduce((n, s) => n + s.value, 0),
      3,
    )
  } finally {
    await node.stop()
  }
})

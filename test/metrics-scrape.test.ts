import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { call, gateway, upstream } from './helpers.js'
import { parseExposition, samples, value } from './metrics-text.js'

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
        value(all, 'portico_upstream_target_health', {
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
    assert.equal(samples(next, 'portico_upstream_target_health').length, 0)
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

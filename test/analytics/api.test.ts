import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { DEFAULT_ANALYTICS } from '../../src/analytics/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import type { Summary } from '../fixtures/analytics.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

let node: AdminNode
let off: AdminNode
let slow: Upstream

before(async () => {
  slow = await upstream('slow', (req, res) => {
    const status = Number(new URL(req.url!, 'http://x').searchParams.get('status') ?? 200)
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end('x'.repeat(100))
    }, 40)
  })
  const yaml = `
_format_version: "3.0"
services:
  - name: svc
    url: ${slow.url}
    routes:
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
      - name: limited
        paths: [/limited]
        plugins:
          - name: rate-limiting
            config: { minute: 2, limit_by: ip }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
`
  node = await adminNode({ analytics: { ...DEFAULT_ANALYTICS, flushMs: 60_000 } }, yaml, [])
  off = await adminNode({ analytics: null }, null, [])
})

after(async () => {
  await node?.stop()
  await off?.stop()
  await slow?.close()
})

test('per consumer and per route: counts by status class, bytes, latency, rate-limited', async () => {
  for (let i = 0; i < 6; i++) await call(`${node.proxy}/keyed/a`, { headers: { apikey: 'alice-key' } })
  for (let i = 0; i < 3; i++)
    await call(`${node.proxy}/keyed/b?status=503`, { headers: { apikey: 'bob-key' } })
  await call(`${node.proxy}/keyed/c`) // 401, no consumer
  for (let i = 0; i < 5; i++) await call(`${node.proxy}/limited`) // 2 served, 3 refused
  const get = async (q: string) =>
    (await node.req('GET', `/analytics/summary?${q}`)).body as unknown as Summary

  const alice = await get('entity=consumer:alice')
  assert.equal(alice.requests, 6)
  assert.equal(alice.status['2xx'], 6)
  // the upstream waits 40 ms: every percentile is at least that, within the sketch's 1 %
  assert.ok(alice.latency_ms.p50 >= 40 * 0.99, String(alice.latency_ms.p50))
  assert.ok(alice.bytes_out > 6 * 100 && alice.bytes_in > 0)
  const bob = await get('entity=consumer:bob')
  assert.deepEqual([bob.requests, bob.status['5xx'], bob.server_error_rate], [3, 3, 1])
  const keyed = await get('entity=route:keyed')
  assert.deepEqual(
    [keyed.requests, keyed.status['2xx'], keyed.status['4xx'], keyed.status['5xx']],
    [10, 6, 1, 3],
  )
  const limited = await get('entity=route:limited')
  assert.deepEqual([limited.requests, limited.rate_limited, limited.status['4xx']], [5, 3, 3])
  const all = await get('')
  assert.equal(all.requests, 15)
  assert.deepEqual(all.top.consumers, [
    { name: 'alice', requests: 6 },
    { name: 'bob', requests: 3 },
  ])
  const top = (await node.req('GET', '/analytics/top?by=route')).body as { data: unknown }
  assert.deepEqual(top.data, [
    { name: 'keyed', requests: 10 },
    { name: 'limited', requests: 5 },
  ])
  const series = (
    await node.req(
      'GET',
      '/analytics/timeseries?entity=consumer:alice&metric=p95&step=60&from=' +
        Math.floor(Date.now() / 1000 - 120),
    )
  ).body as { data: Array<[number, number | null]> }
  assert.ok(series.data.some(([, v]) => v !== null && v >= 40 * 0.99))
})

test('bad parameters answer 400 with the field; analytics off answers 404', async () => {
  for (const [q, field] of [
    ['timeseries?metric=nope', 'metric'],
    ['timeseries?step=7', 'step'],
    ['timeseries?entity=planet:x', 'entity'],
    ['top?by=planet', 'by'],
    ['summary?from=yesterday', 'from'],
    ['summary?from=20&to=10', 'from'],
  ]) {
    const res = await node.req('GET', `/analytics/${q}`)
    assert.equal(res.status, 400, q)
    assert.ok(field! in (res.body.fields as object), q)
  }
  const res = await off.req('GET', '/analytics/summary')
  assert.equal(res.status, 404)
  assert.match(String(res.body.message), /PORTICO_ANALYTICS=off/)
  assert.equal(off.node.analytics, null)
})

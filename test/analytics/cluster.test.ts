import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { DEFAULT_ANALYTICS } from '../../src/analytics/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

const REDIS_URL = process.env.REDIS_URL
const nodes: AdminNode[] = []
let echo: Upstream

const config = (url: string) => `
_format_version: "3.0"
services:
  - name: api
    url: ${url}
    routes:
      - name: api-route
        paths: [/api]
`

before(async () => {
  echo = await upstream('echo')
  // one key prefix per run: the three nodes share it, nothing else does
  const keyPrefix = `portico-test-${randomUUID().slice(0, 8)}:`
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await adminNode(
        {
          redisUrl: REDIS_URL,
          keyPrefix,
          trustedIps: '127.0.0.1',
          analytics: { ...DEFAULT_ANALYTICS, flushMs: 200 },
        },
        config(echo.url),
        [],
      ),
    )
  }
})

after(async () => {
  for (const n of nodes) await n.stop()
  await echo?.close()
})

type Summary = Record<string, unknown> & { requests: number }

test('three nodes on one Redis: the summary from any node is the sum over the three', async () => {
  // node i serves 10·(i+1) requests to the route and i unrouted ones, from clients of its own
  const sent = { ok: 0, missing: 0 }
  for (const [i, n] of nodes.entries()) {
    for (let k = 0; k < 10 * (i + 1); k++) {
      const res = await call(`${n.proxy}/api/${k % 4}`, { headers: { 'x-forwarded-for': `10.0.${i}.${k}` } })
      assert.equal(res.status, 200)
      sent.ok++
    }
    for (let k = 0; k < i; k++) {
      assert.equal(
        (await call(`${n.proxy}/none`, { headers: { 'x-forwarded-for': `10.9.${i}.${k}` } })).status,
        404,
      )
      sent.missing++
    }
  }
  const total = sent.ok + sent.missing // 60 + 3
  const read = async (n: AdminNode) => (await n.req('GET', '/analytics/summary')).body as Summary
  // every node flushes every 200 ms: wait (bounded) until each one's numbers are in Redis
  let summaries: Summary[] = []
  for (let tries = 0; tries < 50; tries++) {
    summaries = await Promise.all(nodes.map(read))
    if (summaries.every((s) => s.requests === total)) break
    await sleep(100)
  }
  const [a, b, c] = summaries
  assert.equal(a!.requests, total)
  assert.deepEqual(a!.status, { '1xx': 0, '2xx': sent.ok, '3xx': 0, '4xx': sent.missing, '5xx': 0, other: 0 })
  assert.deepEqual(a!.unique_clients, { hour: total, day: total })
  assert.deepEqual((a!.top as { routes: unknown }).routes, [{ name: 'api-route', requests: sent.ok }])
  assert.equal((a!.nodes as unknown[]).length, 3)
  // every field but the window and the nodes' last-flush times (the nodes keep flushing)
  const shared = (s: Summary) => {
    const { window: _w, rate_per_s: _r, nodes: list, ...rest } = s
    return { ...rest, nodes: (list as Array<{ node_id: string }>).map((n) => n.node_id) }
  }
  assert.deepEqual(shared(b!), shared(a!))
  assert.deepEqual(shared(c!), shared(a!))

  // per entity and over time, the same sums
  for (const n of nodes) {
    const route = (await n.req('GET', '/analytics/summary?entity=route:api-route')).body as Summary
    assert.equal(route.requests, sent.ok)
    const series = (await n.req('GET', '/analytics/timeseries?entity=service:api&metric=requests&step=3600'))
      .body as { data: Array<[number, number]> }
    assert.equal(
      series.data.reduce((sum, p) => sum + (p[1] ?? 0), 0),
      sent.ok,
    )
    const paths = (await n.req('GET', '/analytics/top?by=path&limit=2')).body as {
      data: Array<{ requests: number }>
    }
    assert.deepEqual(
      paths.data.map((p) => p.requests),
      [16, 16], // /api/0 and /api/1: 3 + 5 + 8 each
    )
  }
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Upstream, upstream } from '../fixtures/helpers.js'
import { admin, burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Usage analytics on a node with workers and no Redis: each worker aggregates its own requests
// and flushes to the primary, which holds the node's numbers; the Admin API on any worker reads
// them there, after every other worker flushed. So `/analytics/*` counts the whole node.

const config = (url: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: ok, paths: [/ok], strip_path: false }
      - { name: bad, paths: [/bad], strip_path: false }
`

interface Summary {
  requests: number
  status: Record<string, number>
  nodes: Array<{ node_id: string }>
}

describe('2 workers, no Redis: analytics count the whole node', () => {
  let up: Upstream
  let node: WorkerNode
  before(async () => {
    up = await upstream('up', (req, res) => {
      res.writeHead(req.url?.startsWith('/bad') ? 500 : 200)
      res.end('x')
    })
    // a flush interval longer than the test: only the read's own gathering writes the numbers
    node = await startWorkers(2, config(up.url), {
      args: ['--analytics', 'on', '--analytics-flush', '600000'],
      withoutRedis: true,
    })
  })
  after(async () => {
    await node?.stop()
    await up?.close()
  })

  const summary = async (query = '') => {
    const r = await admin(node, 'GET', `/analytics/summary${query}`)
    assert.equal(r.status, 200, r.body)
    return JSON.parse(r.body) as Summary
  }
  const series = async (entity: string) => {
    const now = Math.floor(Date.now() / 1000)
    const r = await admin(
      node,
      'GET',
      `/analytics/timeseries?metric=requests&step=60&entity=${entity}&from=${now - 600}&to=${now + 60}`,
    )
    assert.equal(r.status, 200, r.body)
    const data = (JSON.parse(r.body) as { data: Array<[number, number | null]> }).data
    return data.reduce((sum, [, v]) => sum + (v ?? 0), 0)
  }

  test('requests spread over both workers are counted exactly, from either worker, on every read', async () => {
    // new connections: node:cluster hands them to the workers in turn
    assert.deepEqual(new Set(await burst(30, 3, () => get(node.proxy, '/ok'))), new Set([200]))
    assert.deepEqual(new Set(await burst(10, 2, () => get(node.proxy, '/bad'))), new Set([500]))
    // each read is a new admin connection, so the reads alternate between the workers
    for (let i = 0; i < 4; i++) {
      const s = await summary()
      assert.equal(s.requests, 40, JSON.stringify(s))
      assert.equal(s.status['5xx'], 10, JSON.stringify(s.status))
      // both workers' flushes reached the primary's store
      assert.equal(s.nodes.length, 2, JSON.stringify(s.nodes))
      assert.equal(await series('route:ok'), 30)
      assert.equal(await series('route:bad'), 10)
    }
    // more traffic after the reads: added once, not again on later reads
    await burst(6, 2, () => get(node.proxy, '/ok'))
    for (let i = 0; i < 3; i++) {
      assert.equal((await summary()).requests, 46)
      assert.equal(await series('all'), 46)
    }
  })
})

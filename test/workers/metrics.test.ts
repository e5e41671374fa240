import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Upstream, upstream } from '../fixtures/helpers.js'
import { burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 4 of "one node on every core": one /metrics for the node. Counters summed over the
// workers, gauges labelled per worker, the same numbers on every scrape without traffic, and
// no counter going down when a worker is replaced.

const config = (url: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: r, paths: [/r] }
plugins:
  - name: prometheus
    config: { status_code_metrics: true, latency_metrics: true }
`

/** Sum of a counter's samples whose series starts with `prefix` (labels included). */
function total(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

const scrape = async (node: WorkerNode) => (await get(node.status, '/metrics')).body
const REQUESTS = 'kong_http_requests_total{'

for (const n of [2, 4]) {
  describe(`${n} workers: one /metrics`, () => {
    let up: Upstream
    let node: WorkerNode
    before(async () => {
      up = await upstream('up')
      node = await startWorkers(n, config(up.url))
    })
    after(async () => {
      await node?.stop()
      await up?.close()
    })

    test('counters are the node’s sums, the same on every scrape without traffic', async () => {
      const got = await burst(30, 4, () => get(node.proxy, '/r'))
      assert.ok(got.every((s) => s === 200))
      const scrapes = await Promise.all(Array.from({ length: 6 }, () => scrape(node)))
      for (const text of scrapes) assert.equal(total(text, REQUESTS), 30)
      // histograms merged: one series per label set, counts summed
      const count = scrapes[0]!.split('\n').filter((l) => l.startsWith('kong_request_latency_ms_count{'))
      assert.equal(
        count.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0),
        30,
      )
      // a gauge is each worker's reading, labelled with its slot
      const gauges = scrapes[0]!.split('\n').filter((l) => l.startsWith('portico_config_generation{'))
      for (let slot = 1; slot <= n; slot++)
        assert.ok(
          gauges.some((l) => l.includes(`worker="${slot}"`)),
          `worker ${slot}`,
        )
    })

    test('a worker that dies and is replaced does not make a counter go down', async () => {
      await burst(10, 2, () => get(node.proxy, '/r'))
      const before = total(await scrape(node), REQUESTS)
      assert.equal(before, 40)
      const victim = (await node.healthz()).workers[0]!
      process.kill(victim.pid, 'SIGKILL')
      await node.workersWhere(
        (w) => w.length === n && w.every((x) => x.ready) && !w.some((x) => x.pid === victim.pid),
        'the dead worker replaced',
      )
      assert.equal(total(await scrape(node), REQUESTS), before)
      await burst(10, 2, () => get(node.proxy, '/r'))
      assert.equal(total(await scrape(node), REQUESTS), before + 10)
    })
  })
}

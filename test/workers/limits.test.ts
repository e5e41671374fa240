import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 3 of "one node on every core": a local-policy rate limit counts for the node, never
// for one worker: N workers under load admit exactly the limit.

const config = (url: string, algorithm: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: limited
        paths: [/limited]
        plugins:
          - { name: rate-limiting, config: { hour: 10, policy: local, algorithm: ${algorithm}, limit_by: service } }
`

/** Waits past an hour boundary when one is near, so one burst stays inside one fixed window. */
async function awayFromBoundary(): Promise<void> {
  const left = 3_600_000 - (Date.now() % 3_600_000)
  if (left < 30_000) await sleep(left + 100)
}

for (const n of [2, 4]) {
  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket']) {
    describe(`${n} workers: a local limit of 10/hour (${algorithm}) counts for the node`, () => {
      let up: Upstream
      let node: WorkerNode
      before(async () => {
        up = await upstream('up')
        node = await startWorkers(n, config(up.url, algorithm))
      })
      after(async () => {
        await node?.stop()
        await up?.close()
      })

      test('60 requests on new connections, 8 at a time: exactly 10 admitted', async () => {
        await awayFromBoundary()
        const got = await burst(60, 8, () => get(node.proxy, '/limited'))
        assert.equal(got.filter((s) => s === 200).length, 10, JSON.stringify(got))
        assert.equal(got.filter((s) => s === 429).length, 50)
        // the workers' own counters, summed on the node's one /metrics
        const metrics = (await get(node.status, '/metrics')).body
        const line = metrics
          .split('\n')
          .find((l) => l.startsWith('portico_rate_limit_requests_total{outcome="allowed"}'))
        assert.equal(line?.split(' ')[1], '10')
      })
    })
  }
}

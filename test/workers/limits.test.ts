import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Pool } from 'undici'
import { IDLE_MS, RECHECK_MS } from '../../src/plugins/rate-limiting/blocks.js'
import { sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 3 of "one node on every core": a local-policy rate limit counts for the node, never
// for one worker: N workers under load admit exactly the limit. Every algorithm admits from
// blocks of quota the workers take from the primary, so the primary's quota questions
// (portico_workers_messages_total{topic="rate-limiting.take"}) are far fewer than the requests.

const config = (url: string, algorithm: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: limited
        paths: [/limited]
        plugins:
          - { name: rate-limiting, config: { hour: 10, policy: local, algorithm: ${algorithm}, limit_by: service } }
      - name: wide
        paths: [/wide]
        plugins:
          - { name: rate-limiting, config: { hour: 200, policy: local, algorithm: ${algorithm}, limit_by: service } }
`

/** The quota questions the primary received so far (the node's /metrics, summed over workers). */
async function takes(node: WorkerNode): Promise<number> {
  const metrics = (await get(node.status, '/metrics')).body
  const m = /^portico_workers_messages_total\{topic="rate-limiting\.take"\} (\d+)$/m.exec(metrics)
  return Number(m?.[1] ?? 0)
}

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

      test('600 requests, 8 at a time, under 200/hour: exactly 200 admitted, from blocks', async (t) => {
        await awayFromBoundary()
        const asked = await takes(node)
        const got = await burst(600, 8, () => get(node.proxy, '/wide'))
        const admitted = got.filter((s) => s === 200).length
        const questions = (await takes(node)) - asked
        t.diagnostic(`${n} workers, ${algorithm}: ${admitted} admitted of 600, ${questions} quota questions`)
        assert.equal(admitted, 200, JSON.stringify(got))
        assert.equal(got.filter((s) => s === 429).length, 400)
        // no question per request, admitted or refused: blocks while quota lasts (smaller near
        // the limit), then each worker keeps its refusal (asking again at most once a second
        // while another worker holds units that may come back)
        assert.ok(questions * 10 <= got.length, `${questions} quota questions for ${got.length} requests`)
      })
    })
  }
}

// Units a worker took and did not use come back to the node: a worker that saw a few requests
// on one keep-alive connection holds a block; once it is idle the block goes back, and the
// node admits the whole limit after all (without the return it would be lost until the window
// ends).
describe('2 workers: a block a worker does not use goes back', () => {
  let up: Upstream
  let node: WorkerNode
  before(async () => {
    up = await upstream('up')
    node = await startWorkers(2, config(up.url, 'sliding-window'))
  })
  after(async () => {
    await node?.stop()
    await up?.close()
  })

  test('3 requests on one connection, then idle: the rest of the 10 are admitted elsewhere', async () => {
    await awayFromBoundary()
    // one connection: one worker, which takes one unit, then a block as its rate shows
    const pool = new Pool(`http://127.0.0.1:${node.proxy}`, { connections: 1 })
    let first = 0
    for (let i = 0; i < 3; i++) {
      const res = await pool.request({ path: '/limited', method: 'GET' })
      await res.body.dump()
      if (res.statusCode === 200) first++
    }
    await pool.close()
    assert.equal(first, 3)
    const before = await takes(node)
    // long enough for the idle block to go back, and for a refusal to be asked again
    await sleep(IDLE_MS + RECHECK_MS + 300)
    const later = await burst(20, 1, () => get(node.proxy, '/limited'))
    assert.equal(later.filter((s) => s === 200).length, 7, JSON.stringify(later))
    assert.ok((await takes(node)) > before)
  })
})

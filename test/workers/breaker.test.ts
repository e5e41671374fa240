import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { sleep } from '../fixtures/helpers.js'
import { type Answer, admin, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// The circuit-breaker's local policy on a node with workers: one state per node. The primary
// runs the state machine on every worker's outcomes; each transition reaches every worker; the
// Admin API on any worker shows and changes the node's breaker; half-open trial calls are
// counted node-wide.

/** An upstream that fails, succeeds, or holds each request until released. */
interface Gate {
  port: number
  mode: 'fail' | 'ok' | 'hold'
  calls: number
  held: http.ServerResponse[]
  release(): void
  close(): Promise<void>
}

async function gate(): Promise<Gate> {
  const g: Gate = {
    port: 0,
    mode: 'ok',
    calls: 0,
    held: [],
    release() {
      for (const res of g.held.splice(0)) res.end('ok')
    },
    close: () =>
      new Promise((r) => {
        g.release()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
  const server = http.createServer((_req, res) => {
    g.calls++
    if (g.mode === 'hold') return void g.held.push(res)
    res.writeHead(g.mode === 'fail' ? 500 : 200)
    res.end(g.mode)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  g.port = (server.address() as AddressInfo).port
  return g
}

const config = (a: Gate, b: Gate) => `_format_version: "3.0"
services:
  - name: a
    url: http://127.0.0.1:${a.port}
    retries: 0
    routes: [{ name: a, paths: [/a] }]
    plugins:
      - name: circuit-breaker
        config: { minimum_calls: 10, failure_rate_threshold: 50, window_seconds: 60, open_seconds: 60, max_open_seconds: 120 }
  - name: b
    url: http://127.0.0.1:${b.port}
    retries: 0
    routes: [{ name: b, paths: [/b] }]
    plugins:
      - name: circuit-breaker
        config: { minimum_calls: 4, failure_rate_threshold: 50, window_seconds: 60, open_seconds: 1, max_open_seconds: 2, half_open_calls: 2 }
`

interface Breaker {
  id: string
  service: string
  state: string
}

describe('2 workers: the local circuit breaker is the node’s', () => {
  let a: Gate
  let b: Gate
  let node: WorkerNode
  const ids = new Map<string, string>()
  before(async () => {
    a = await gate()
    b = await gate()
    node = await startWorkers(2, config(a, b))
    const list = JSON.parse((await admin(node, 'GET', '/circuit-breakers')).body) as { data: Breaker[] }
    for (const e of list.data) ids.set(e.service, e.id)
  })
  after(async () => {
    await node?.stop()
    await a?.close()
    await b?.close()
  })

  /** the state of `service`'s breaker on `k` admin reads (new connections: both workers answer) */
  const states = async (service: string, k = 4): Promise<string[]> => {
    const out: string[] = []
    for (let i = 0; i < k; i++) {
      const r = await admin(node, 'GET', `/circuit-breakers/${encodeURIComponent(ids.get(service)!)}`)
      assert.equal(r.status, 200, r.body)
      out.push((JSON.parse(r.body) as Breaker).state)
    }
    return out
  }
  const until = async (service: string, state: string) => {
    const end = Date.now() + 10_000
    let last: string[] = []
    while (Date.now() < end) {
      last = await states(service)
      if (last.every((s) => s === state)) return
      await sleep(20)
    }
    assert.fail(`${service}: not ${state} on every worker within 10 s: ${last.join(',')}`)
  }
  /** `n` requests one after the other, each on a new connection (the workers take turns) */
  const sequential = async (path: string, n: number) => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await get(node.proxy, path)).status)
    return out
  }

  test('failures spread over both workers open it for both at the node-wide threshold; a reset reaches both', async () => {
    a.mode = 'fail'
    // 10 failures, 5 per worker: no worker alone reaches minimum_calls 10
    assert.deepEqual(await sequential('/a', 10), new Array(10).fill(500))
    await until('a', 'open')
    assert.deepEqual(await sequential('/a', 6), new Array(6).fill(503))
    assert.equal(a.calls, 10, 'no upstream call once the node opened it')
    // one transition for the node: every worker adopts it, one counts it (/metrics sums workers)
    const metrics = (await get(node.status, '/metrics')).body
    const opened = metrics
      .split('\n')
      .filter((l) => l.startsWith('portico_circuit_breaker_transitions_total{') && l.includes('service="a"'))
      .filter((l) => l.includes('from="closed"') && l.includes('to="open"'))
    assert.deepEqual(
      opened.map((l) => Number(l.slice(l.lastIndexOf(' ') + 1))),
      [1],
      opened.join('\n'),
    )

    a.mode = 'ok'
    const reset = await admin(node, 'POST', `/circuit-breakers/${encodeURIComponent(ids.get('a')!)}/close`)
    assert.equal(reset.status, 200, reset.body)
    assert.equal((JSON.parse(reset.body) as Breaker).state, 'closed')
    assert.deepEqual(await states('a'), ['closed', 'closed', 'closed', 'closed'])
    assert.deepEqual(await sequential('/a', 6), new Array(6).fill(200))

    const held = await admin(node, 'POST', `/circuit-breakers/${encodeURIComponent(ids.get('a')!)}/open`)
    assert.equal(held.status, 200, held.body)
    assert.deepEqual(await states('a'), ['forced_open', 'forced_open', 'forced_open', 'forced_open'])
    assert.deepEqual(await sequential('/a', 6), new Array(6).fill(503))
    await admin(node, 'POST', `/circuit-breakers/${encodeURIComponent(ids.get('a')!)}/close`)
    assert.deepEqual(await sequential('/a', 4), new Array(4).fill(200))
  })

  test('half-open: the configured trial calls, node-wide', async () => {
    b.mode = 'fail'
    assert.deepEqual(await sequential('/b', 4), new Array(4).fill(500))
    await until('b', 'open')
    // past the open period; then every request either fails fast or is a trial held upstream
    await sleep(1500)
    b.mode = 'hold'
    const callsBefore = b.calls
    const pending: Array<Promise<Answer>> = []
    const answers: number[] = []
    for (let i = 0; i < 10; i++) {
      const held = b.held.length
      const p = get(node.proxy, '/b')
      const done = p.then((r) => {
        answers.push(r.status)
        return r
      })
      pending.push(done)
      // wait until this request answered or reached the upstream
      const end = Date.now() + 10_000
      while (answers.length + b.held.length < i + 1 && Date.now() < end) await sleep(5)
      assert.ok(answers.length + b.held.length >= i + 1, `request ${i}: neither answered nor upstream`)
      assert.ok(b.held.length <= 2, `held ${b.held.length} (was ${held})`)
    }
    assert.equal(b.held.length, 2, 'two trial calls node-wide (half_open_calls: 2)')
    assert.equal(b.calls - callsBefore, 2)
    assert.deepEqual(answers, new Array(8).fill(503))
    b.mode = 'ok'
    b.release()
    await Promise.all(pending)
    await until('b', 'closed')
    assert.deepEqual(await sequential('/b', 4), new Array(4).fill(200))
  })
})

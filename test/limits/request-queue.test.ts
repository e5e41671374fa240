import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { request } from 'undici'
import { WebSocket, WebSocketServer } from 'ws'
import { call, gateway } from '../fixtures/helpers.js'
import { parseExposition, value } from '../fixtures/metrics-text.js'
import { type HoldingUpstream, holdingUpstream, queueStats, send, until } from '../fixtures/queue-helpers.js'

const doc = (url: string) => `
_format_version: "3.0"
services:
  - name: heavy
    url: ${url}
    routes:
      - name: two
        paths: [/two]
        plugins:
          - name: request-queue
            config: { concurrency: 2, queue_size: 10 }
      - name: one
        paths: [/one]
        plugins:
          - name: request-queue
            config: { concurrency: 1, queue_size: 2, max_wait_ms: 60000 }
      - name: short
        paths: [/short]
        plugins:
          - name: request-queue
            config: { concurrency: 1, queue_size: 5, max_wait_ms: 200 }
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
          - name: request-queue
            config: { concurrency: 1, queue_size: 5, limit_by: consumer }
  - name: nowhere
    url: http://127.0.0.1:9/
    routes:
      - name: refused
        paths: [/refused]
        plugins:
          - name: request-queue
            config: { concurrency: 1, queue_size: 5, max_wait_ms: 60000 }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
`

describe('request-queue, local policy', () => {
  let up: HoldingUpstream
  let gw: Awaited<ReturnType<typeof gateway>>
  before(async () => {
    up = await holdingUpstream()
    gw = await gateway(doc(up.url))
  })
  after(async () => {
    up.releaseAll()
    await gw.stop()
    await up.close()
  })

  /** After a test: every slot given back, nobody waiting. */
  const settled = () =>
    until(() => queueStats(gw).inFlight === 0 && queueStats(gw).waiting === 0, 'no slot held, nobody waiting')

  test('concurrency: never more than 2 upstream at once; the rest wait and all are served', async () => {
    const stats = queueStats(gw)
    const dequeuedBefore = stats.dequeued
    up.max = 0
    const all = Array.from({ length: 6 }, (_, i) =>
      send(`${gw.url}/two`, { 'x-hold': '1', 'x-n': String(i) }),
    )
    await until(() => up.held.length === 2 && stats.waiting === 4, 'two upstream, four waiting')
    assert.equal(up.inflight, 2)
    for (let served = 0; served < 6; served++) {
      await until(() => up.held.length > 0, 'a held request')
      assert.ok(up.inflight <= 2, `in flight: ${up.inflight}`)
      up.releaseOne()
    }
    const answers = await Promise.all(all.map((r) => r.done))
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 200],
    )
    assert.equal(up.max, 2)
    assert.equal(stats.dequeued - dequeuedBefore, 4)
    for (const a of answers) assert.match(String(a.headers['x-queue-wait-ms']), /^\d+$/)
    await settled()
  })

  test('FIFO: waiters get the slot in the order they arrived', async () => {
    const stats = queueStats(gw)
    const first = up.order.length
    const reqs = [send(`${gw.url}/two`, { 'x-hold': '1', 'x-n': 'h1' })]
    reqs.push(send(`${gw.url}/two`, { 'x-hold': '1', 'x-n': 'h2' }))
    await until(() => up.held.length === 2, 'both slots taken')
    // one at a time, so the arrival order is known
    for (let i = 1; i <= 5; i++) {
      reqs.push(send(`${gw.url}/two`, { 'x-hold': '1', 'x-n': `w${i}` }))
      await until(() => stats.waiting === i, `${i} waiting`)
    }
    for (let i = 0; i < reqs.length; i++) {
      await until(() => up.held.length > 0, 'a held request')
      up.releaseOne()
    }
    await Promise.all(reqs.map((r) => r.done))
    assert.deepEqual(up.order.slice(first + 2), ['w1', 'w2', 'w3', 'w4', 'w5'])
    await settled()
  })

  test('queue full: 503 at once with Retry-After and a JSON message; outcomes reach /metrics', async () => {
    const stats = queueStats(gw)
    const holder = send(`${gw.url}/one`, { 'x-hold': '1' })
    await until(() => up.held.length === 1, 'slot taken')
    const waiters = [send(`${gw.url}/one`, { 'x-hold': '1' }), send(`${gw.url}/one`, { 'x-hold': '1' })]
    await until(() => stats.waiting === 2, 'queue full')
    const rejectedBefore = stats.rejectedFull
    const r = await call(`${gw.url}/one`)
    assert.equal(r.status, 503)
    assert.match(String(r.headers['retry-after']), /^[1-9]\d*$/)
    const body = r.json() as { message: string; request_id: string }
    assert.equal(typeof body.message, 'string')
    assert.equal(typeof body.request_id, 'string')
    assert.equal(stats.rejectedFull - rejectedBefore, 1)
    for (let i = 0; i < 3; i++) {
      await until(() => up.held.length === 1, 'next one upstream')
      up.releaseOne()
    }
    for (const w of [holder, ...waiters]) assert.equal((await w.done).status, 200)
    await settled()

    const text = await (await request(`http://127.0.0.1:${gw.status!.port}/metrics`)).body.text()
    const all = parseExposition(text)
    assert.ok((value(all, 'portico_queue_requests_total', { outcome: 'rejected' }) ?? 0) >= 1)
    assert.ok((value(all, 'portico_queue_requests_total', { outcome: 'waited' }) ?? 0) >= 2)
    assert.ok((value(all, 'portico_queue_requests_total', { outcome: 'immediate' }) ?? 0) >= 1)
  })

  test('max_wait_ms: a waiter that gets no slot in time is answered 503 with Retry-After', async () => {
    const stats = queueStats(gw)
    const before = stats.rejectedTimeout
    const holder = send(`${gw.url}/short`, { 'x-hold': '1' })
    await until(() => up.held.length === 1, 'slot taken')
    const late = await send(`${gw.url}/short`).done
    assert.equal(late.status, 503)
    assert.match(String(late.headers['retry-after']), /^[1-9]\d*$/)
    assert.equal(typeof late.json.message, 'string')
    assert.equal(stats.rejectedTimeout - before, 1)
    up.releaseOne()
    assert.equal((await holder.done).status, 200)
    await settled()
  })

  test('a client that leaves while upstream gives its slot back', async () => {
    const holder = send(`${gw.url}/one`, { 'x-hold': '1' })
    await until(() => up.held.length === 1 && queueStats(gw).inFlight === 1, 'slot taken')
    holder.abort()
    await assert.rejects(holder.done)
    await settled()
    await until(() => up.held.length === 0, 'the upstream call cancelled too')
    // with the slot leaked, this one would wait 60 s
    const next = send(`${gw.url}/one`)
    assert.equal((await next.done).status, 200)
    await settled()
  })

  test('a client that leaves while waiting leaves the queue and takes no slot', async () => {
    const stats = queueStats(gw)
    const abandoned = stats.abandoned
    const holder = send(`${gw.url}/one`, { 'x-hold': '1', 'x-n': 'holder' })
    await until(() => up.held.length === 1, 'slot taken')
    const quitter = send(`${gw.url}/one`, { 'x-hold': '1', 'x-n': 'quitter' })
    await until(() => stats.waiting === 1, 'one waiting')
    quitter.abort()
    await assert.rejects(quitter.done)
    await until(() => stats.waiting === 0, 'queue empty')
    assert.equal(stats.abandoned - abandoned, 1)
    const stayer = send(`${gw.url}/one`, { 'x-n': 'stayer' })
    await until(() => stats.waiting === 1, 'the next one waits')
    up.releaseOne()
    assert.equal((await holder.done).status, 200)
    assert.equal((await stayer.done).status, 200)
    assert.equal(up.order.includes('quitter'), false, 'the abandoned request never went upstream')
    await settled()
  })

  test('an upstream that fails gives the slot back (502), and so does a refused connection', async () => {
    const failed = await send(`${gw.url}/one`, { 'x-fail': '1' }).done
    assert.equal(failed.status, 502)
    await settled()
    assert.equal((await send(`${gw.url}/one`).done).status, 200)
    for (let i = 0; i < 3; i++) assert.equal((await send(`${gw.url}/refused`).done).status, 502)
    await settled()
  })

  test('limit_by consumer: each consumer has its own slots', async () => {
    const stats = queueStats(gw)
    const alice = send(`${gw.url}/keyed`, { apikey: 'alice-key', 'x-hold': '1', 'x-n': 'alice-1' })
    await until(() => up.held.length === 1, 'alice holds her slot')
    // bob is not behind alice
    const bob = send(`${gw.url}/keyed`, { apikey: 'bob-key', 'x-hold': '1', 'x-n': 'bob-1' })
    await until(() => up.held.length === 2, 'bob upstream at once')
    assert.equal(stats.waiting, 0)
    // alice's second request waits for her first
    const alice2 = send(`${gw.url}/keyed`, { apikey: 'alice-key', 'x-n': 'alice-2' })
    await until(() => stats.waiting === 1, "alice's second request waits")
    assert.equal(up.order.includes('alice-2'), false)
    up.releaseAll()
    for (const r of [alice, bob, alice2]) assert.equal((await r.done).status, 200)
    assert.ok(up.order.indexOf('alice-2') > up.order.indexOf('bob-1'))
    await settled()
  })
})

test('request-queue: a reload that raises concurrency lets waiters through; slots held survive it', async () => {
  const up = await holdingUpstream()
  const config = (n: number) => `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: r
        paths: [/r]
        plugins:
          - name: request-queue
            config: { concurrency: ${n}, queue_size: 10 }
`
  const gw = await gateway(config(1))
  try {
    const stats = queueStats(gw)
    const reqs = [1, 2, 3].map((i) => send(`${gw.url}/r`, { 'x-hold': '1', 'x-n': String(i) }))
    await until(() => up.held.length === 1 && stats.waiting === 2, 'one upstream, two waiting')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(gw.file!, config(2))
    const result = await gw.reload()
    assert.equal(result.ok, true)
    await until(() => up.held.length === 2 && stats.waiting === 1, 'a second slot after the reload')
    up.releaseOne()
    await until(() => up.held.length === 2 && stats.waiting === 0, 'the last one upstream')
    up.releaseAll()
    for (const r of reqs) assert.equal((await r.done).status, 200)
    assert.equal(up.max, 2)
    await until(() => stats.inFlight === 0, 'every slot back')
  } finally {
    up.releaseAll()
    await gw.stop()
    await up.close()
  }
})

test('request-queue: a WebSocket holds its slot until the connection closes', async () => {
  const server = http.createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket) => socket.on('message', (m) => socket.send(`echo:${m.toString()}`)))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const gw = await gateway(`
_format_version: "3.0"
services:
  - name: ws
    url: http://127.0.0.1:${port}/
    routes:
      - name: ws
        paths: [/ws]
        plugins:
          - name: request-queue
            config: { concurrency: 1, queue_size: 5 }
`)
  const open = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.port}/ws`)
      ws.on('open', () => resolve(ws))
      ws.on('error', reject)
    })
  try {
    const stats = queueStats(gw)
    const first = await open()
    assert.equal(stats.inFlight, 1)
    const second = open()
    await until(() => stats.waiting === 1, 'the second handshake waits')
    first.close()
    const ws = await second
    await until(() => stats.inFlight === 1 && stats.waiting === 0, 'the slot went to the second')
    ws.terminate()
    await until(() => stats.inFlight === 0, 'a cut connection gives the slot back')
  } finally {
    for (const c of wss.clients) c.terminate()
    await gw.stop()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

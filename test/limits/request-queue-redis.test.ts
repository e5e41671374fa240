import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { freePort } from '../../scripts/rate-limit-redis.js'
import { call, gateway } from '../fixtures/helpers.js'
import { parseExposition, value } from '../fixtures/metrics-text.js'
import { type HoldingUpstream, holdingUpstream, queueStats, send, until } from '../fixtures/queue-helpers.js'

const REDIS_URL = process.env.REDIS_URL
if (REDIS_URL === undefined) throw new Error('REDIS_URL is required (npm test starts a private redis-server)')

const doc = (url: string, config: string) => `
_format_version: "3.0"
services:
  - name: heavy
    url: ${url}
    routes:
      - name: heavy
        paths: [/heavy]
        plugins:
          - name: request-queue
            config: { policy: redis, ${config} }
`

/** Two nodes on one Redis, with a key prefix of their own (tests may share the server). */
async function cluster(url: string, config: string) {
  const keyPrefix = `rq-test-${randomBytes(4).toString('hex')}:`
  // a generous deadline: the shared test machine may be busy
  const settings = { redisUrl: REDIS_URL, keyPrefix, redisDeadlineMs: 500 }
  const a = await gateway(doc(url, config), settings)
  const b = await gateway(doc(url, config), settings)
  return { a, b, keyPrefix }
}

describe('request-queue, redis policy', () => {
  let up: HoldingUpstream
  let admin: Redis
  before(async () => {
    up = await holdingUpstream()
    admin = new Redis(REDIS_URL)
  })
  after(async () => {
    up.releaseAll()
    await up.close()
    admin.disconnect()
  })

  test('two nodes hold one limit: never more than 3 upstream at once across both', async () => {
    const { a, b, keyPrefix } = await cluster(up.url, 'concurrency: 3, queue_size: 20')
    try {
      up.max = 0
      const sa = queueStats(a)
      const sb = queueStats(b)
      const reqs = Array.from({ length: 10 }, (_, i) =>
        send(`${i % 2 === 0 ? a.url : b.url}/heavy`, { 'x-hold': '1', 'x-n': String(i) }),
      )
      await until(
        () => up.held.length === 3 && sa.waiting + sb.waiting === 7,
        'three upstream, seven waiting',
      )
      // the plugin's registered gauges read the same counters, per node
      const gauges = async (name: string) => {
        let n = 0
        for (const node of [a, b])
          n += value(
            parseExposition((await call(`http://127.0.0.1:${node.status!.port}/metrics`)).text),
            name,
          )!
        return n
      }
      assert.equal(await gauges('portico_queue_in_flight'), 3)
      assert.equal(await gauges('portico_queue_waiting'), 7)
      const [key] = await admin.keys(`${keyPrefix}rq:*`)
      assert.ok(key !== undefined, 'the semaphore lives in Redis')
      assert.equal(await admin.zcard(key), 3)
      for (let i = 0; i < 10; i++) {
        await until(() => up.held.length > 0, 'a held request')
        assert.ok(up.inflight <= 3, `in flight: ${up.inflight}`)
        up.releaseOne()
      }
      const answers = await Promise.all(reqs.map((r) => r.done))
      assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([200]))
      assert.equal(up.max, 3)
      assert.ok(sa.dequeued + sb.dequeued >= 7)
      await until(() => sa.inFlight === 0 && sb.inFlight === 0, 'every slot back')
      // releases are sent without waiting for them: give Redis a moment to apply the last ones
      let left = -1
      for (let i = 0; i < 100 && left !== 0; i++) {
        left = await admin.zcard(key)
        if (left !== 0) await new Promise((r) => setTimeout(r, 20))
      }
      assert.equal(left, 0, 'every lease released in Redis')
    } finally {
      up.releaseAll()
      await Promise.all([a.stop(), b.stop()])
    }
  })

  test('a slot freed on one node reaches a waiter on the other through the notice', async () => {
    // polling is off for the length of the test: only the pub/sub notice can wake the waiter
    const { a, b } = await cluster(up.url, 'concurrency: 1, poll_ms: 60000, max_wait_ms: 30000')
    try {
      const holder = send(`${a.url}/heavy`, { 'x-hold': '1', 'x-n': 'on-a' })
      await until(() => up.held.length === 1, 'node a holds the slot')
      const waiter = send(`${b.url}/heavy`, { 'x-n': 'on-b' })
      await until(() => queueStats(b).waiting === 1, 'node b waits')
      up.releaseOne()
      assert.equal((await holder.done).status, 200)
      const w = await waiter.done
      assert.equal(w.status, 200)
      assert.equal(queueStats(b).dequeued, 1)
    } finally {
      up.releaseAll()
      await Promise.all([a.stop(), b.stop()])
    }
  })

  test('a node that dies keeps its slots only until its leases expire', async () => {
    const { a, b } = await cluster(up.url, 'concurrency: 1, lease_ms: 400, poll_ms: 50, max_wait_ms: 30000')
    try {
      const stranded = send(`${a.url}/heavy`, { 'x-hold': '1', 'x-n': 'dead' })
      await until(() => up.held.length === 1, 'node a holds the slot')
      const waiter = send(`${b.url}/heavy`, { 'x-hold': '1', 'x-n': 'alive' })
      await until(() => queueStats(b).waiting === 1, 'node b waits')
      // node a is cut off from Redis for good: it can neither renew nor release its lease
      a.services.redis().client.disconnect()
      await until(() => up.held.some((h) => h.n === 'alive'), "node b's request upstream")
      assert.ok(
        up.held.some((h) => h.n === 'dead'),
        "node a's request is still upstream: its slot came back through the lease's expiry",
      )
      up.releaseAll()
      assert.equal((await waiter.done).status, 200)
      assert.equal((await stranded.done).status, 200)
    } finally {
      up.releaseAll()
      await Promise.all([a.stop(), b.stop()])
    }
  })

  test('a running request keeps its lease: renewals outlast lease_ms', async () => {
    const { a, b } = await cluster(up.url, 'concurrency: 1, lease_ms: 600, poll_ms: 50, max_wait_ms: 30000')
    try {
      const long = send(`${a.url}/heavy`, { 'x-hold': '1', 'x-n': 'long' })
      await until(() => up.held.length === 1, 'node a holds the slot')
      const waiter = send(`${b.url}/heavy`, { 'x-n': 'next' })
      await until(() => queueStats(b).waiting === 1, 'node b waits')
      // several lease lengths: node b polls every 50 ms and must find the slot taken each time
      await new Promise((r) => setTimeout(r, 2000))
      assert.equal(queueStats(b).waiting, 1, 'the lease was renewed')
      assert.equal(up.order.includes('next'), false)
      up.releaseOne()
      assert.equal((await long.done).status, 200)
      assert.equal((await waiter.done).status, 200)
    } finally {
      up.releaseAll()
      await Promise.all([a.stop(), b.stop()])
    }
  })
})

test('request-queue, redis unreachable: fault_tolerant lets requests through, otherwise 500', async () => {
  const up = await holdingUpstream()
  const port = await freePort() // nothing listens there
  const gw = await gateway(
    `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: open
        paths: [/open]
        plugins:
          - name: request-queue
            config: { policy: redis, concurrency: 1, redis: { host: 127.0.0.1, port: ${port} } }
      - name: closed
        paths: [/closed]
        plugins:
          - name: request-queue
            config: { policy: redis, concurrency: 1, fault_tolerant: false, redis: { host: 127.0.0.1, port: ${port} } }
`,
    { redisDeadlineMs: 100 },
  )
  try {
    const stats = queueStats(gw)
    // more than the concurrency, at once: all through, none holding a slot
    const open = await Promise.all([1, 2, 3].map(() => send(`${gw.url}/open`).done))
    assert.deepEqual(
      open.map((r) => r.status),
      [200, 200, 200],
    )
    assert.equal(stats.failedOpen, 3)
    const closed = await send(`${gw.url}/closed`).done
    assert.equal(closed.status, 500)
    assert.equal(typeof closed.json.message, 'string')
    assert.equal(stats.failedClosed, 1)
    assert.equal(stats.inFlight, 0)
  } finally {
    await gw.stop()
    await up.close()
  }
})

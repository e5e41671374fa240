import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { startRedis } from '../fixtures/cache-helpers.js'
import {
  breakers,
  call,
  eventually,
  gateway,
  healthz,
  type Node,
  type Switchable,
  sleep,
  statuses,
  switchable,
} from './helpers.js'

const REDIS_URL = process.env.REDIS_URL
if (REDIS_URL === undefined) throw new Error('REDIS_URL is required (npm test starts a private redis-server)')

const SERVICE_ID = '6f1e1c8a-0000-4000-8000-0000000005e1'
const PLUGIN_ID = '6f1e1c8a-0000-4000-8000-00000000cb02'

const doc = (url: string, config: string) => `_format_version: "3.0"
services:
  - id: ${SERVICE_ID}
    name: s
    url: ${url}
    retries: 0
    routes: [{ name: r, paths: [/r] }]
plugins:
  - id: ${PLUGIN_ID}
    name: circuit-breaker
    service: s
    config: { policy: redis, ${config} }
`

const CONFIG = 'minimum_calls: 4, open_seconds: 0.5, max_open_seconds: 2, half_open_calls: 2'

/** Nodes on one Redis with a key prefix of their own (tests share the server). */
async function nodes(n: number, url: string, config: string, redisUrl = REDIS_URL!): Promise<Node[]> {
  const keyPrefix = `cb-test-${randomBytes(4).toString('hex')}:`
  const settings = {
    redisUrl,
    keyPrefix,
    redisDeadlineMs: 500,
    admin: { host: '127.0.0.1', port: 0 },
  }
  const out: Node[] = []
  for (let i = 0; i < n; i++) out.push(await gateway(doc(url, config), settings))
  return out
}

const stateOn = async (node: Node) => (await breakers(node))[0]?.state

describe('circuit-breaker, redis policy', () => {
  let up: Switchable
  before(async () => {
    up = await switchable('up')
  })
  after(async () => {
    await up.close()
  })

  test('what one node learns opens the breaker on the other, which never called the upstream', async () => {
    const [a, b] = await nodes(
      2,
      up.url,
      CONFIG.replace('open_seconds: 0.5, max_open_seconds: 2', 'open_seconds: 30, max_open_seconds: 60'),
    )
    try {
      up.status = 500
      up.calls = 0
      assert.deepEqual(await statuses(`${a!.url}/r`, 4), [500, 500, 500, 500])
      assert.ok(await eventually(async () => (await stateOn(b!)) === 'open'), 'b applied the shared state')
      const r = await call(`${b!.url}/r`)
      assert.equal(r.status, 503)
      assert.ok(Number(r.headers['retry-after']) >= 28)
      assert.equal(up.calls, 4, 'b failed fast without an upstream call of its own')
      const [seen] = await breakers(b!)
      assert.equal(seen!.mode, 'redis')
      assert.equal(seen!.transitions['closed>open'], 1)
    } finally {
      await Promise.all([a!.stop(), b!.stop()])
    }
  })

  test('outcomes of both nodes add up in one window', async () => {
    const [a, b] = await nodes(2, up.url, CONFIG)
    try {
      up.status = 500
      await statuses(`${a!.url}/r`, 2)
      await statuses(`${b!.url}/r`, 2)
      assert.ok(
        await eventually(async () => (await stateOn(a!)) === 'open' && (await stateOn(b!)) === 'open'),
      )
    } finally {
      await Promise.all([a!.stop(), b!.stop()])
    }
  })

  test('half-open trials are limited across the cluster, not per node; all succeed: closed everywhere', async () => {
    const [a, b] = await nodes(2, up.url, CONFIG)
    try {
      up.status = 500
      await statuses(`${a!.url}/r`, 4)
      assert.ok(await eventually(async () => (await stateOn(b!)) === 'open'))
      await sleep(600)
      up.status = 200
      up.hold = true
      up.calls = 0
      const all = [a, b, a, b, a, b].map((n) => call(`${n!.url}/r`))
      assert.ok(await eventually(() => up.held === 2), 'two trials at the upstream')
      await sleep(200)
      assert.equal(up.held, 2, 'and no more')
      up.hold = false
      up.release()
      const got = (await Promise.all(all)).map((r) => r.status).sort()
      assert.deepEqual(got, [200, 200, 503, 503, 503, 503])
      assert.equal(up.calls, 2)
      assert.ok(
        await eventually(async () => (await stateOn(a!)) === 'closed' && (await stateOn(b!)) === 'closed'),
      )
    } finally {
      up.hold = false
      up.release()
      await Promise.all([a!.stop(), b!.stop()])
    }
  })

  test('Redis lost: the node falls back to its local breaker and says so on /healthz; back when Redis is', async () => {
    const redis = await startRedis()
    let a: Node | undefined = (
      await nodes(
        1,
        up.url,
        CONFIG.replace('open_seconds: 0.5, max_open_seconds: 2', 'open_seconds: 30, max_open_seconds: 60'),
        redis.url,
      )
    )[0]
    try {
      up.status = 200
      assert.equal((await call(`${a!.url}/r`)).status, 200)
      assert.equal((await healthz(a!)).circuit_breakers[0]!.mode, 'redis')
      await redis.stop()
      up.status = 500
      up.calls = 0
      // the first calls after the loss find out; then the local breaker decides
      assert.ok(
        await eventually(async () => (await healthz(a!)).circuit_breakers[0]!.mode === 'local-fallback'),
        'fallback shown on /healthz',
      )
      const got = await statuses(`${a!.url}/r`, 8)
      assert.ok(got.includes(503), `the local breaker opened: ${got}`)
      assert.ok(up.calls <= 5, `${up.calls} upstream calls`)
      const h = (await healthz(a!)).circuit_breakers[0]! as unknown as {
        state: string
        fallback_reason: string
      }
      assert.equal(h.state, 'open')
      assert.ok(h.fallback_reason !== '')
      const back = await startRedis(redis.port)
      try {
        assert.ok(
          await eventually(async () => (await healthz(a!)).circuit_breakers[0]!.mode === 'redis', 15_000),
          'shared state back once Redis answers',
        )
      } finally {
        await a!.stop()
        a = undefined
        await back.stop()
      }
    } finally {
      await a?.stop()
      await redis.stop().catch(() => {})
    }
  })
})

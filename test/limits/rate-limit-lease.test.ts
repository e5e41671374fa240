import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { type OwnRedis, startOwnRedis } from '../../scripts/rate-limit-redis.js'
import { FIXED } from '../../src/plugins/rate-limiting/algorithms.js'
import { IDLE_MS, RECHECK_MS } from '../../src/plugins/rate-limiting/blocks.js'
import { LEASE_LUA } from '../../src/plugins/rate-limiting/lease-lua.js'
import { RATE_LIMITING_STATS, type RateLimitingStats } from '../../src/plugins/rate-limiting/stats.js'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

/**
 * Quota leasing (the redis policy's `lease: true`): nodes take blocks of the quota from Redis and admit
 * from them locally. Every case checks the bound that matters (never above the limit) and that
 * the units come back (the whole limit is admitted once leases return).
 */

const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket'] as const

// an hour window: a test never crosses it in practice, and a token bucket refills L per hour.
// The algorithm routes do not fail open: on a loaded machine a call that misses its deadline is
// a 500 there, never a 200 the limiter did not decide (which would look like over-admission)
const doc = (url: string, limit: number) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
${ALGORITHMS.map(
  (a) => `      - name: ${a}
        paths: [/${a}]
        plugins:
          - name: rate-limiting
            config: { hour: ${limit}, limit_by: header, header_name: x-client, policy: redis, lease: true, algorithm: ${a}, fault_tolerant: false }`,
).join('\n')}
      - name: open
        paths: [/open]
        plugins:
          - name: rate-limiting
            config: { hour: ${limit}, limit_by: header, header_name: x-client, policy: redis, lease: true }
      - name: closed
        paths: [/closed]
        plugins:
          - name: rate-limiting
            config: { hour: ${limit}, limit_by: header, header_name: x-client, policy: redis, lease: true, fault_tolerant: false }
`

/** long enough for an idle lease to go back and for a refusal to be asked again */
const RETURNED_MS = IDLE_MS + RECHECK_MS + 300

describe('rate limiting with quota leases', () => {
  let up: Upstream
  let redis: OwnRedis
  before(async () => {
    up = await upstream('up')
    redis = await startOwnRedis()
  })
  after(async () => {
    await up.close()
    await redis.stop()
  })
  const settings = (keyPrefix: string) => ({ redisUrl: redis.url, redisDeadlineMs: 2000, keyPrefix })
  const get = async (url: string, path: string, client: string) =>
    (await call(`${url}${path}`, { headers: { 'x-client': client } })).status

  test('the last unit: three nodes never admit more than L, and all of L once leases come back', async () => {
    const L = 7
    const prefix = `lease:${randomUUID()}:`
    const nodes = await Promise.all([0, 1, 2].map(() => gateway(doc(up.url, L), settings(prefix))))
    try {
      for (const algo of ALGORITHMS) {
        const client = randomUUID()
        const burst = await Promise.all(
          Array.from({ length: 30 }, (_, i) => get(nodes[i % 3]!.url, `/${algo}`, client)),
        )
        const first = burst.filter((s) => s === 200).length
        assert.ok(first <= L, `${algo}: ${first} admitted of ${L} in the burst`)
        assert.equal(burst.filter((s) => s !== 200 && s !== 429 && s !== 500).length, 0, burst.join(','))
        await sleep(RETURNED_MS)
        let later = 0
        for (let i = 0; i < 21; i++) if ((await get(nodes[i % 3]!.url, `/${algo}`, client)) === 200) later++
        assert.equal(first + later, L, `${algo}: ${first} in the burst, ${later} after the leases came back`)
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  })

  test('a node joining mid-window takes only what is left', async () => {
    const L = 6
    const prefix = `lease:${randomUUID()}:`
    const a = await gateway(doc(up.url, L), settings(prefix))
    let b: Awaited<ReturnType<typeof gateway>> | undefined
    try {
      const client = randomUUID()
      let admitted = 0
      for (let i = 0; i < 4; i++) if ((await get(a.url, '/fixed-window', client)) === 200) admitted++
      assert.equal(admitted, 4)
      b = await gateway(doc(up.url, L), settings(prefix))
      for (let i = 0; i < 5; i++) if ((await get(b.url, '/fixed-window', client)) === 200) admitted++
      assert.ok(admitted <= L, `${admitted} admitted of ${L}`)
      await sleep(RETURNED_MS)
      for (let i = 0; i < 10; i++) {
        if ((await get((i % 2 === 0 ? a : b).url, '/fixed-window', client)) === 200) admitted++
      }
      assert.equal(admitted, L)
    } finally {
      await Promise.all([a.stop(), b?.stop()])
    }
  })

  test('a lease is returned on stop: the counter then holds exactly what was admitted', async () => {
    const prefix = `lease:${randomUUID()}:`
    const a = await gateway(doc(up.url, 100_000), settings(prefix))
    const client = randomUUID()
    const counter = async () => {
      const [key] = await redis.admin.keys(`${prefix}rl:*`)
      return Number(await redis.admin.hget(key!, 'f3c'))
    }
    let admitted = 0
    let stopped = false
    try {
      // a burst leaves the node holding a block (its rate asks for more than the waiting requests)
      let held = 0
      for (let round = 0; round < 5 && held === 0; round++) {
        const burst = await Promise.all(Array.from({ length: 40 }, () => get(a.url, '/fixed-window', client)))
        admitted += burst.filter((s) => s === 200).length
        held = (await counter()) - admitted
      }
      assert.ok(held > 0, 'the node holds units of a lease')
      await a.stop()
      stopped = true
      assert.equal(await counter(), admitted, 'the unused units went back on stop')
    } finally {
      if (!stopped) await a.stop()
    }
  })

  test('a lease call that misses its deadline fails only the requests whose own deadline is over', async () => {
    // the waiters of one call are decided as their own calls would have been: the request that
    // sent it fails by the fault policy at its deadline, one that joined later is answered by
    // the late reply, which comes before its own deadline (2 s each; Redis paused 2.5 s)
    const prefix = `lease:${randomUUID()}:`
    const gw = await gateway(doc(up.url, 1000), settings(prefix))
    const stats = gw.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, () => {
      throw new Error('the plugin creates the stats')
    })
    try {
      const open = (client: string) => call(`${gw.url}/open`, { headers: { 'x-client': client } })
      const limited = (r: { headers: Record<string, unknown> }) =>
        r.headers['x-ratelimit-limit-hour'] === '1000'
      assert.ok(limited(await open(randomUUID())), 'the script is loaded and Redis answers')
      const before = { ...stats }
      const client = randomUUID()
      await redis.pause(2_500)
      const first = open(client)
      await sleep(1_000)
      const second = open(client)
      const [a, b] = await Promise.all([first, second])
      assert.equal(a.status, 200)
      assert.equal(limited(a), false, 'the first request failed open at its deadline')
      assert.equal(b.status, 200)
      assert.equal(limited(b), true, 'the second one was decided by the late reply')
      assert.equal(stats.failedOpen - before.failedOpen, 1)
      assert.equal(stats.timeouts - before.timeouts, 1)
    } finally {
      await gw.stop()
    }
  })

  test('a return counts once, and only from the holder of the grant it names', async () => {
    // the lease script itself, one fixed hour of 100: a grant of 30 to holder A
    const key = `lease:${randomUUID()}:rl:{t}`
    const hour = [3, 3_600_000, 100, 100, 36_000]
    const lease = (holder: string, need: number) =>
      redis.admin.eval(LEASE_LUA, 1, key, FIXED, 1, 1, 0, need, 0, holder, ...hour) as Promise<number[]>
    const giveBack = (holder: string, units: number, t0: number) =>
      redis.admin.eval(LEASE_LUA, 1, key, FIXED, 1, 2, 0, units, t0, holder, ...hour)
    const count = async () => Number(await redis.admin.hget(key, 'f3c'))
    const [granted, t0] = (await lease('A', 30)) as [number, number]
    assert.equal(granted, 30)
    await giveBack('B', 10, t0!)
    assert.equal(await count(), 30, 'B holds no grant: its return changes nothing')
    await giveBack('A', 10, t0! - 1)
    assert.equal(await count(), 30, 'a return naming another grant changes nothing')
    await giveBack('A', 10, t0!)
    assert.equal(await count(), 20, "A's return")
    await giveBack('A', 10, t0!)
    assert.equal(await count(), 20, 'the same return again (a replayed call) changes nothing')
  })

  test('Redis unavailable: units in hand are used, then the fault policy applies unchanged', async () => {
    const prefix = `lease:${randomUUID()}:`
    const gw = await gateway(doc(up.url, 1000), settings(prefix))
    const stats = gw.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, () => {
      throw new Error('the plugin creates the stats')
    })
    try {
      const client = randomUUID()
      const limited = (r: { headers: Record<string, unknown> }) =>
        r.headers['x-ratelimit-limit-hour'] === '1000'
      const open = () => call(`${gw.url}/open`, { headers: { 'x-client': client } })
      const closed = () => call(`${gw.url}/closed`, { headers: { 'x-client': client } })
      assert.ok(limited(await open()))
      assert.ok(limited(await closed()))
      const before = { ...stats }
      await redis.kill()
      // a lease ends at the latest after its hold time: then every request needs Redis
      await sleep(1_100)
      for (let i = 0; i < 3; i++) {
        const r = await open()
        assert.equal(r.status, 200)
        assert.equal(limited(r), false, 'fault_tolerant: through, no verdict, no headers')
        const c = await closed()
        assert.equal(c.status, 500)
        assert.equal((c.json() as { message: string }).message, 'An unexpected error occurred')
      }
      assert.equal(stats.failedOpen - before.failedOpen, 3)
      assert.equal(stats.failedClosed - before.failedClosed, 3)
      await redis.start()
      let back = false
      for (let i = 0; i < 60 && !back; i++) {
        await sleep(100)
        back = limited(await open())
      }
      assert.equal(back, true, 'limits apply again once Redis is back')
    } finally {
      await gw.stop()
    }
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type OwnRedis, startOwnRedis } from '../../scripts/rate-limit-redis.js'
import { RATE_LIMITING_STATS, type RateLimitingStats } from '../../src/plugins/rate-limiting/stats.js'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { parseExposition, value } from '../fixtures/metrics-text.js'

/** `INFO commandstats` as { command: calls }. */
async function commandCalls(r: OwnRedis): Promise<Record<string, number>> {
  const info = await r.admin.info('commandstats')
  const out: Record<string, number> = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2])
  return out
}

const doc = (url: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: open
        paths: [/open]
        plugins:
          - name: rate-limiting
            config: { second: 3, minute: 3, hour: 100000, limit_by: ip, policy: redis, lease: false }
      - name: closed
        paths: [/closed]
        plugins:
          - name: rate-limiting
            config: { minute: 1000, limit_by: ip, policy: redis, lease: false, fault_tolerant: false }
      - name: bucket
        paths: [/bucket]
        plugins:
          - name: rate-limiting
            config: { second: 100, minute: 1000, algorithm: token-bucket, limit_by: ip, policy: redis, lease: false }
`

// these cases are the per-request mode (lease: false): one script call per request; leasing has
// its own file (rate-limit-lease.test.ts)
// a generous deadline: the shared test machine may be busy, and a probe that misses a 50 ms
// deadline there would keep the breaker open (the behaviour under test is the same); usage
// analytics off: their flush to the node's Redis every few seconds would land in the counts
const settings = (r: OwnRedis) => ({ redisUrl: r.url, redisDeadlineMs: 250, analytics: null })

describe('rate limiting on a Redis of our own', () => {
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

  test('one Redis round trip per request, whatever the number of windows, admitted or refused', async () => {
    const gw = await gateway(doc(up.url), settings(redis))
    try {
      await call(`${gw.url}/bucket`) // the connection's first call sends EVAL; the rest EVALSHA
      await redis.admin.config('RESETSTAT')
      const n = 40
      const seen: number[] = []
      for (let i = 0; i < n / 2; i++) seen.push((await call(`${gw.url}/open`)).status)
      for (let i = 0; i < n / 2; i++) seen.push((await call(`${gw.url}/bucket`)).status)
      assert.ok(seen.includes(429) && seen.includes(200), 'both admitted and refused requests')
      const calls = await commandCalls(redis)
      const admitted = seen.filter((s) => s === 200).length
      // Redis 7 also counts the commands a script runs: one TIME and HMGET per call, and the
      // writes only for admitted requests (a refusal records nothing)
      assert.deepEqual(
        { ...calls, info: undefined, 'config|resetstat': undefined },
        {
          evalsha: n,
          time: n,
          hmget: n,
          hset: admitted,
          pexpire: admitted,
          info: undefined,
          'config|resetstat': undefined,
        },
        'one EVALSHA per request and no other command from the gateway',
      )
    } finally {
      await gw.stop()
    }
  })

  test('Redis down: fault_tolerant lets requests through without headers, else 500; back within 2 s', async () => {
    const gw = await gateway(doc(up.url), settings(redis))
    const stats = gw.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, () => {
      throw new Error('the plugin creates the stats')
    })
    try {
      assert.equal((await call(`${gw.url}/bucket`)).headers['x-ratelimit-limit-second'], '100')
      const before = { ...stats }
      await redis.kill()
      for (let i = 0; i < 5; i++) {
        const r = await call(`${gw.url}/bucket`)
        assert.equal(r.status, 200)
        assert.equal(r.headers['x-ratelimit-limit-second'], undefined, 'no verdict, no headers')
        const c = await call(`${gw.url}/closed`)
        assert.equal(c.status, 500)
        assert.equal((c.json() as { message: string }).message, 'An unexpected error occurred')
      }
      assert.equal(stats.failedOpen - before.failedOpen, 5)
      assert.equal(stats.failedClosed - before.failedClosed, 5)
      assert.ok(stats.errors > before.errors)
      // the plugin's registered series read the same counters
      const all = parseExposition((await call(`http://127.0.0.1:${gw.status!.port}/metrics`)).text)
      const series = (name: string, labels: Record<string, string>) => value(all, name, labels)
      assert.equal(
        series('portico_rate_limit_store_unavailable_total', { action: 'allowed' }),
        stats.failedOpen,
      )
      assert.equal(
        series('portico_rate_limit_store_unavailable_total', { action: 'refused' }),
        stats.failedClosed,
      )
      assert.equal(series('portico_rate_limit_store_failures_total', { reason: 'error' }), stats.errors)

      await redis.start()
      // ioredis retries every ≤ 2 s: the limits apply again within that (the loop allows 6 s on a busy machine)
      let limited = false
      for (let i = 0; i < 60 && !limited; i++) {
        await sleep(100)
        limited = (await call(`${gw.url}/bucket`)).headers['x-ratelimit-limit-second'] === '100'
      }
      assert.equal(limited, true)
    } finally {
      await gw.stop()
    }
  })

  test('Redis paused: requests pass on the deadline and the breaker; limits apply again after', async () => {
    const gw = await gateway(doc(up.url), settings(redis))
    const stats = gw.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, () => {
      throw new Error('the plugin creates the stats')
    })
    try {
      assert.equal((await call(`${gw.url}/bucket`)).status, 200)
      const timeouts = stats.timeouts
      await redis.pause(3000)
      // five at once all wait for the deadline; then the breaker is open and of the ten that
      // follow one at a time, only the probes (one per 250 ms) wait
      const during = await Promise.all(Array.from({ length: 5 }, () => call(`${gw.url}/bucket`)))
      for (let i = 0; i < 10; i++) during.push(await call(`${gw.url}/bucket`))
      for (const r of during) {
        assert.equal(r.status, 200)
        assert.equal(r.headers['x-ratelimit-limit-second'], undefined)
      }
      const waited = stats.timeouts - timeouts
      assert.ok(waited >= 5 && waited < 15, `requests that waited for the deadline: ${waited}`)
      let limited = false
      for (let i = 0; i < 80 && !limited; i++) {
        await sleep(100)
        limited = (await call(`${gw.url}/bucket`)).headers['x-ratelimit-limit-second'] === '100'
      }
      assert.equal(limited, true)
    } finally {
      await gw.stop()
    }
  })
})

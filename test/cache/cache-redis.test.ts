import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import {
  cacheGateway,
  cacheRouteConfig,
  eventually,
  type PrivateRedis,
  redisReady,
  sleep,
  startRedis,
} from '../fixtures/cache-helpers.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

const config = (url: string, extra = '') =>
  cacheRouteConfig(url, `{ name: proxy-cache, config: { strategy: redis${extra} } }`)

/** Total calls per command from INFO commandstats (INFO itself left out). */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m && m[1] !== 'info') out.set(m[1]!, Number(m[2]))
  }
  return out
}

function delta(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {}
  for (const [k, v] of b) if (v !== (a.get(k) ?? 0)) d[k] = v - (a.get(k) ?? 0)
  return d
}

describe('redis strategy against its own Redis', () => {
  let up: Upstream
  let redis: PrivateRedis
  let probe: Redis
  before(async () => {
    up = await upstream('up')
    redis = await startRedis()
    probe = new Redis(redis.url)
  })
  after(async () => {
    probe.disconnect()
    await redis.stop()
    await up.close()
  })

  test('a hit served from the in-process tier makes no Redis round trip (INFO commandstats)', async (t) => {
    // usage analytics off: their flush (every few seconds, to the node's Redis) is not the cache's
    const gw = await cacheGateway(config(up.url), 'redis', {
      settings: { redisUrl: redis.url, analytics: null },
    })
    try {
      assert.equal((await call(`${gw.url}/c/hot`)).headers['x-cache-status'], 'Miss')
      await sleep(50) // the fill's own writes land
      const before = await commandCalls(probe)
      for (let i = 0; i < 20; i++)
        assert.equal((await call(`${gw.url}/c/hot`)).headers['x-cache-status'], 'Hit')
      const during = delta(before, await commandCalls(probe))
      t.diagnostic(`20 hits from the in-process tier: Redis commands ${JSON.stringify(during)}`)
      assert.deepEqual(during, {}, 'no command reached Redis')
      // once the in-process copy expires, a hit reads Redis again (the measurement does see calls)
      await sleep(1100)
      const later = await commandCalls(probe)
      assert.equal((await call(`${gw.url}/c/hot`)).headers['x-cache-status'], 'Hit')
      assert.deepEqual(delta(later, await commandCalls(probe)), { get: 1 })
    } finally {
      await gw.stop()
    }
  })

  test('a Redis that hangs or dies costs at most the deadline: the cache steps aside (Bypass)', async () => {
    const gw = await cacheGateway(config(up.url), 'redis', {
      settings: { redisUrl: redis.url, redisDeadlineMs: 100 },
    })
    try {
      await call(`${gw.url}/c/ok`)
      redis.pause()
      try {
        const r = await call(`${gw.url}/c/while-paused`)
        assert.equal(r.status, 200)
        assert.equal(r.headers['x-cache-status'], 'Bypass')
      } finally {
        redis.resume()
      }
      await redis.stop()
      const down = await call(`${gw.url}/c/while-down`)
      assert.equal(down.status, 200)
      assert.equal(down.headers['x-cache-status'], 'Bypass')
      redis = await startRedis(redis.port)
      probe.disconnect()
      probe = new Redis(redis.url)
      assert.ok(
        await eventually(
          async () => (await call(`${gw.url}/c/back`)).headers['x-cache-status'] === 'Hit',
          5000,
        ),
        'caching resumes once Redis is back',
      )
    } finally {
      await gw.stop()
    }
  })

  test('config.redis (Kong’s fields) points the plugin at its own Redis; without any Redis it refuses to load', async () => {
    const gw = await gateway(config(up.url, `, redis: { host: 127.0.0.1, port: ${redis.port} }`))
    try {
      await redisReady(gw)
      await call(`${gw.url}/c/own`)
      assert.equal((await call(`${gw.url}/c/own`)).headers['x-cache-status'], 'Hit')
      assert.ok((await probe.keys('portico:proxy-cache:*')).length >= 1)
    } finally {
      await gw.stop()
    }
    await assert.rejects(gateway(config(up.url)), /PORTICO_REDIS_URL/)
  })
})

import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { cacheGateway, cacheRouteConfig, STRATEGIES, status } from '../fixtures/cache-helpers.js'
import { call, upstream } from '../fixtures/helpers.js'

const doc = (url: string, strategy: string, ttl: number) =>
  cacheRouteConfig(
    url,
    `{ id: 0c0c0c0c-0000-4000-8000-000000000001, name: proxy-cache, config: { strategy: ${strategy}, cache_ttl: ${ttl} } }`,
  )

for (const strategy of STRATEGIES) {
  test(`entries and counters survive a config reload (${strategy})`, async () => {
    const up = await upstream('up')
    const gw = await cacheGateway(doc(up.url, strategy, 300), strategy)
    try {
      await call(`${gw.url}/c/x`)
      assert.equal((await call(`${gw.url}/c/x`)).headers['x-cache-status'], 'Hit')
      writeFileSync(gw.file!, doc(up.url, strategy, 600))
      assert.equal((await gw.reload()).ok, true)
      assert.equal((await call(`${gw.url}/c/x`)).headers['x-cache-status'], 'Hit')
      const z = await status(gw, '/cachez')
      assert.equal(z.ttl, 600)
      assert.equal(z.hits, 2)
      assert.equal(z.misses, 1)
      assert.equal(up.seen.length, 1)
    } finally {
      await gw.stop()
      await up.close()
    }
  })
}

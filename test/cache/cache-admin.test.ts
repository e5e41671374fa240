import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import {
  admin,
  cacheGateway,
  eventually,
  type Node,
  REDIS_URL,
  STRATEGIES,
  type Strategy,
  status,
} from '../fixtures/cache-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

const PLUGIN_A = '6f1f3d1e-0000-4000-8000-00000000000a'
const PLUGIN_B = '6f1f3d1e-0000-4000-8000-00000000000b'

const config = (url: string, a: Strategy, b: Strategy) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: a
        paths: [/a]
        plugins: [{ id: ${PLUGIN_A}, name: proxy-cache, config: { strategy: ${a} } }]
      - name: b
        paths: [/b]
        plugins: [{ id: ${PLUGIN_B}, name: proxy-cache, config: { strategy: ${b}, cache_ttl: 60 } }]
`

let up: Upstream
before(async () => {
  up = await upstream('up')
})
after(() => up.close())

for (const strategy of STRATEGIES) {
  describe(`purge Admin API (${strategy})`, () => {
    const prefix = `t${randomUUID().slice(0, 8)}:`
    let a: Node
    let b: Node
    before(async () => {
      // two nodes; with memory strategy they share only a Redis for purge notices
      const settings = { redisUrl: REDIS_URL, keyPrefix: prefix, redisDeadlineMs: 500 }
      ;[a, b] = await Promise.all(
        [0, 1].map(() => cacheGateway(config(up.url, strategy, strategy), strategy, { prefix, settings })),
      )
    })
    after(async () => {
      await Promise.all([a.stop(), b.stop()])
    })

    const cached = async (node: Node, path: string) => {
      await call(`${node.url}${path}`)
      const r = await call(`${node.url}${path}`)
      assert.equal(r.headers['x-cache-status'], 'Hit')
      return String(r.headers['x-cache-key'])
    }

    test('GET /proxy-cache/:key shows the entry (Kong’s fields); 404 for an unknown key', async () => {
      const key = await cached(a, '/a/show')
      const r = await admin(a, 'GET', `/proxy-cache/${key}`)
      assert.equal(r.status, 200)
      const e = r.body as Record<string, unknown>
      assert.equal(e.status, 200)
      assert.equal(e.ttl, 300)
      assert.equal(e.version, 1)
      assert.equal(typeof e.timestamp, 'number')
      assert.equal(e.body_len, Buffer.byteLength(String(e.body)))
      assert.match(String(e.body), /"url":"\/show"/)
      assert.equal((e.headers as Record<string, string>)['content-type'], 'application/json')
      const unknown = await admin(a, 'GET', `/proxy-cache/${'0'.repeat(64)}`)
      assert.deepEqual([unknown.status, unknown.body], [404, { message: 'Not found' }])
      assert.equal((await admin(a, 'GET', `/proxy-cache/${PLUGIN_A}/caches/${key}`)).status, 200)
      assert.equal((await admin(a, 'GET', `/proxy-cache/${randomUUID()}/caches/${key}`)).status, 404)
    })

    test('DELETE /proxy-cache/:key purges it on every node: 204, then 404', async () => {
      const key = await cached(a, '/a/purge-me')
      assert.equal(await cached(b, '/a/purge-me'), key, 'both nodes hold it')
      assert.equal((await admin(a, 'DELETE', `/proxy-cache/${key}`)).status, 204)
      assert.ok(await eventually(async () => (await admin(b, 'GET', `/proxy-cache/${key}`)).status === 404))
      assert.equal((await call(`${a.url}/a/purge-me`)).headers['x-cache-status'], 'Miss')
      assert.equal(
        (await call(`${b.url}/a/purge-me`)).headers['x-cache-status'],
        strategy === 'redis' ? 'Hit' : 'Miss',
      )
      assert.equal((await admin(a, 'DELETE', `/proxy-cache/${'f'.repeat(64)}`)).status, 404)
    })

    test('DELETE /proxy-cache/:plugin_id/caches/:key purges through that plugin’s stores', async () => {
      const key = await cached(a, '/b/scoped')
      assert.equal((await admin(a, 'DELETE', `/proxy-cache/${randomUUID()}/caches/${key}`)).status, 404)
      assert.equal((await admin(a, 'DELETE', `/proxy-cache/${PLUGIN_B}/caches/${key}`)).status, 204)
      assert.equal((await admin(a, 'DELETE', `/proxy-cache/${PLUGIN_B}/caches/${key}`)).status, 404)
      assert.equal((await call(`${a.url}/b/scoped`)).headers['x-cache-status'], 'Miss')
    })

    test('DELETE /proxy-cache purges everything on every node', async () => {
      const keys = [await cached(a, '/a/all1'), await cached(b, '/b/all2')]
      assert.equal((await admin(b, 'DELETE', '/proxy-cache')).status, 204)
      for (const node of [a, b]) {
        for (const key of keys) {
          assert.ok(
            await eventually(async () => (await admin(node, 'GET', `/proxy-cache/${key}`)).status === 404),
          )
        }
      }
      assert.equal((await call(`${a.url}/a/all1`)).headers['x-cache-status'], 'Miss')
    })

    test('/cachez: hits, misses, ratio, backend, ttl, entries and bytes, in total and per instance', async () => {
      assert.equal((await admin(a, 'DELETE', '/proxy-cache')).status, 204)
      const before = await status(a, '/cachez')
      await call(`${a.url}/a/z1`)
      await call(`${a.url}/a/z1`)
      await call(`${a.url}/a/z1`)
      await call(`${a.url}/b/z2`)
      // hits and misses are counted in the log phase, when the response closes on the gateway's
      // side, which can come just after the client has read the whole body
      let z = await status(a, '/cachez')
      await eventually(async () => {
        z = await status(a, '/cachez')
        return Number(z.hits) - Number(before.hits) >= 2 && Number(z.misses) - Number(before.misses) >= 2
      })
      assert.equal(Number(z.hits) - Number(before.hits), 2)
      assert.equal(Number(z.misses) - Number(before.misses), 2)
      assert.equal(typeof z.hit_ratio, 'number')
      assert.equal(z.backend, strategy)
      assert.deepEqual(z.ttl, [60, 300])
      assert.ok(Number(z.entries) >= 2)
      assert.ok(Number(z.bytes) > 0)
      const instances = z.instances as Array<Record<string, unknown>>
      assert.deepEqual(instances.map((i) => i.id).sort(), [PLUGIN_A, PLUGIN_B])
      const ia = instances.find((i) => i.id === PLUGIN_A)!
      assert.equal(ia.backend, strategy)
      assert.equal(ia.ttl, 300)
      assert.ok(Number(ia.hits) >= 2)
      assert.ok(Number(ia.entries) >= 1)
    })
  })
}

describe('/cachez', () => {
  test('mixed strategies aggregate; the proxy listener serves it when status is exposed there', async () => {
    const gw = await cacheGateway(config(up.url, 'memory', 'redis'), 'redis', {
      settings: { statusOnProxy: true },
    })
    try {
      await call(`${gw.url}/a/m`)
      await call(`${gw.url}/b/r`)
      await call(`${gw.url}/b/r`)
      const z = (await call(`${gw.url}/cachez`)).json() as Record<string, unknown>
      assert.equal(z.backend, 'memory+redis')
      assert.equal(z.hits, 1)
      assert.equal(z.misses, 2)
      assert.equal(z.hit_ratio, 0.3333)
      assert.ok(Number(z.entries) >= 2)
    } finally {
      await gw.stop()
    }
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { type PrivateRedis, privateRedis } from '../fixtures/control-plane-redis-server.js'
import { call, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

async function eventually(check: () => Promise<boolean>, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(25)
  }
  return check()
}

const status = async (n: AdminNode, path: string) => (await call(`${n.proxy}${path}`)).status

describe('config store in Redis: three nodes', () => {
  let redis: PrivateRedis
  let up: Upstream
  const nodes: AdminNode[] = []
  const settings = () => ({
    configStore: 'redis' as const,
    redisUrl: redis.url,
    keyPrefix: 'portico:',
    status: { host: '127.0.0.1', port: 0 },
  })
  // store status is internal detail: on the status listener, never the proxy's /healthz
  const healthz = (n: AdminNode) => `http://127.0.0.1:${n.node.status!.port}/healthz`
  const fileWith = (path: string) =>
    `_format_version: "3.0"\nservices:\n  - name: seeded\n    url: ${up.url}\n    routes: [{ name: seeded, paths: ["${path}"] }]\n`

  before(async () => {
    redis = await privateRedis()
    up = await upstream('up')
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await up.close()
    await redis.close()
  })

  test('a declarative file is imported only into an empty store; later nodes get the stored config', async () => {
    nodes.push(await adminNode(settings(), fileWith('/first')))
    nodes.push(await adminNode(settings(), fileWith('/ignored')))
    nodes.push(await adminNode(settings()))
    for (const n of nodes) {
      assert.equal(await status(n, '/first'), 200)
      assert.equal(await status(n, '/ignored'), 404)
    }
  })

  test('a change made through any node is live on all three', async () => {
    for (let i = 0; i < 3; i++) {
      const via = nodes[i] as AdminNode
      const res = await via.req('POST', '/services/seeded/routes', { name: `via-${i}`, paths: [`/via-${i}`] })
      assert.equal(res.status, 201)
      for (const n of nodes)
        assert.ok(await eventually(async () => (await status(n, `/via-${i}`)) === 200), `node sees /via-${i}`)
    }
    await (nodes[1] as AdminNode).req('DELETE', '/routes/via-0')
    for (const n of nodes) assert.ok(await eventually(async () => (await status(n, '/via-0')) === 404))
  })

  test('concurrent writers on different nodes: no change is lost, a name is taken once', async () => {
    const writes = Array.from({ length: 24 }, (_, i) =>
      (nodes[i % 3] as AdminNode).req('POST', '/services', { name: `c${i}`, host: 'h.test' }),
    )
    const results = await Promise.all(writes)
    assert.deepEqual(
      results.map((r) => r.status),
      Array(24).fill(201),
    )
    for (const n of nodes) {
      assert.ok(
        await eventually(async () => {
          const names = (
            (await n.req('GET', '/services?size=1000')).body.data as Array<{ name: string }>
          ).map((s) => s.name)
          return Array.from({ length: 24 }, (_, i) => `c${i}`).every((c) => names.includes(c))
        }),
      )
    }
    const race = await Promise.all(
      nodes.flatMap((n) =>
        [1, 2].map(() => n.req('POST', '/services', { name: 'contested', host: 'h.test' })),
      ),
    )
    assert.deepEqual(race.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409])
    const versions = new Set<unknown>()
    for (const n of nodes) {
      await eventually(async () => {
        const s = (await n.req('GET', '/status')).body.configuration_hash
        versions.clear()
        for (const m of nodes) versions.add((await m.req('GET', '/status')).body.configuration_hash)
        return versions.size === 1 && s !== undefined
      })
    }
    assert.equal(versions.size, 1, 'every node runs the same configuration')
  })

  test('Redis stopped: every node keeps serving and says so; Redis back: the next change reaches all', async () => {
    await redis.stop()
    for (const n of nodes) {
      assert.equal(await status(n, '/via-1'), 200)
      assert.ok(
        await eventually(async () => {
          const h = (await call(healthz(n))).json() as {
            store: { config: string; config_store_status: string }
          }
          return h.store.config === 'redis' && h.store.config_store_status === 'unreachable'
        }),
      )
    }
    const refused = await (nodes[0] as AdminNode).req('POST', '/services', {
      name: 'while-down',
      host: 'h.test',
    })
    assert.equal(refused.status, 503)
    for (let i = 0; i < 20; i++) for (const n of nodes) assert.equal(await status(n, '/via-2'), 200)

    await redis.start()
    for (const n of nodes) {
      assert.ok(
        await eventually(async () => {
          const h = (await call(healthz(n))).json() as { store: { config_store_status: string } }
          return h.store.config_store_status === 'ok'
        }, 10000),
      )
    }
    const res = await (nodes[2] as AdminNode).req('POST', '/services/seeded/routes', {
      name: 'after',
      paths: ['/after'],
    })
    assert.equal(res.status, 201)
    for (const n of nodes) {
      assert.ok(await eventually(async () => (await status(n, '/after')) === 200))
      assert.equal(await status(n, '/via-1'), 200, 'what was configured before the outage is still there')
    }
  })
})

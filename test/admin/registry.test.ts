import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode, adminSuite } from '../fixtures/admin-helpers.js'
import { call, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

/** Polls `check` until it holds (or gives up after `ms`); returns whether it held. */
async function eventually(check: () => Promise<boolean>, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(50)
  }
  return check()
}

async function spread(url: string, n: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const res = await call(url)
    const key = res.status === 200 ? String(res.headers['x-upstream']) : `status ${res.status}`
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  return seen
}

describe('service registry (memory store)', () => {
  const s = adminSuite()

  test('registered instances are reachable at /api/{service} without a route written by hand', async () => {
    const r1 = await s.a.req('POST', '/registry/services/users/instances', { url: s.one.url, ttl: 30 })
    assert.equal(r1.status, 201)
    assert.match(String(r1.body.id), /^[0-9a-f-]{36}$/)
    const r2 = await s.a.req('POST', '/registry/services/users/instances', { url: s.two.url }, { form: true })
    assert.equal(r2.status, 201)
    assert.deepEqual([...(await spread(`${s.a.proxy}/api/users/list`, 8)).keys()].sort(), ['one', 'two'])
    assert.equal(s.one.seen.at(-1)?.url, '/list', 'the /api/{service} prefix is stripped')
    const again = await s.a.req('POST', '/registry/services/users/instances', { url: s.one.url })
    assert.equal(again.status, 200, 'the same url registers once')
    assert.equal(again.body.id, r1.body.id)
    const listed = await s.a.req('GET', '/registry/services')
    const users = (
      listed.body.data as Array<{ name: string; route: string; instances: Array<Record<string, unknown>> }>
    )[0]
    assert.deepEqual([users?.name, users?.route, users?.instances.length], ['users', '/api/users', 2])
    for (const i of users?.instances ?? []) {
      assert.equal(i.status, 'up')
      assert.ok(!Number.isNaN(Date.parse(String(i.last_seen))))
    }
    assert.equal((await s.a.req('GET', '/services')).text, '{"data":[],"next":null}', 'not stored entities')
  })

  test('renew (heartbeat) updates last seen; deregister takes the instance out of the balancer', async () => {
    const r = await s.a.req('POST', '/registry/services/orders/instances', { url: s.one.url })
    const r2 = await s.a.req('POST', '/registry/services/orders/instances', { url: s.two.url })
    const first = String(r.body.last_seen)
    await sleep(20)
    const renewed = await s.a.req('PUT', `/registry/services/orders/instances/${r.body.id}`, {})
    assert.equal(renewed.status, 200)
    assert.ok(Date.parse(String(renewed.body.last_seen)) > Date.parse(first))
    assert.equal(
      (await s.a.req('PUT', `/registry/services/orders/instances/${randomUUID()}`, {})).status,
      404,
    )
    assert.equal((await s.a.req('DELETE', `/registry/services/orders/instances/${r2.body.id}`)).status, 204)
    assert.deepEqual([...(await spread(`${s.a.proxy}/api/orders`, 4)).keys()], ['one'])
    const detail = await s.a.req('GET', '/registry/services/orders')
    assert.equal((detail.body.instances as unknown[]).length, 1)
  })

  test('an instance that stops renewing leaves after its TTL; the last one takes the route with it', async () => {
    const stays = await s.a.req('POST', '/registry/services/ttl/instances', { url: s.one.url, ttl: 30 })
    const goes = await s.a.req('POST', '/registry/services/ttl/instances', { url: s.two.url, ttl: 1 })
    assert.equal(goes.status, 201)
    assert.ok(await eventually(async () => !(await spread(`${s.a.proxy}/api/ttl`, 4)).has('two')))
    const detail = await s.a.req('GET', '/registry/services/ttl')
    assert.deepEqual(
      (detail.body.instances as Array<{ id: string }>).map((i) => i.id),
      [stays.body.id],
    )
    await s.a.req('DELETE', `/registry/services/ttl/instances/${stays.body.id}`)
    assert.ok(await eventually(async () => (await call(`${s.a.proxy}/api/ttl`)).status === 404))
    assert.equal((await s.a.req('GET', '/registry/services/ttl')).status, 404)
  })

  test('bad registrations are 400s and register nothing', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['bad_name!', { url: s.one.url }],
      ['ok', { url: 'not a url' }],
      ['ok', { url: 'ftp://127.0.0.1:21' }],
      ['ok', { url: `${s.one.url}/with/path` }],
      ['ok', { url: s.one.url, ttl: 0 }],
      ['ok', { url: s.one.url, colour: 'blue' }],
      ['ok', { url: s.one.url, health_path: 'no-slash' }],
    ]
    for (const [name, body] of cases) {
      const res = await s.a.req('POST', `/registry/services/${name}/instances`, body)
      assert.equal(res.status, 400, JSON.stringify(body))
    }
    assert.equal((await s.a.req('GET', '/registry/services/ok')).status, 404)
  })

  test('an instance failing its health_path is taken out by the active check', async () => {
    let healthy = true
    const flaky = await upstream('flaky', (req, res) => {
      if (req.url === '/health') {
        res.writeHead(healthy ? 200 : 500)
        res.end()
        return
      }
      res.writeHead(200, { 'x-upstream': 'flaky' })
      res.end('ok')
    })
    try {
      await s.a.req('POST', '/registry/services/checked/instances', {
        url: flaky.url,
        health_path: '/health',
      })
      await s.a.req('POST', '/registry/services/checked/instances', {
        url: s.one.url,
        health_path: '/health',
      })
      healthy = false
      assert.ok(
        await eventually(async () => !(await spread(`${s.a.proxy}/api/checked`, 4)).has('flaky'), 15000),
      )
      const view = await s.a.req('GET', '/registry/services/checked')
      const states = (view.body.instances as Array<{ url: string; status: string }>).find(
        (i) => i.url === flaky.url,
      )
      assert.equal(states?.status, 'unhealthy')
    } finally {
      await flaky.close()
    }
  })
})

describe('service registry (redis store, shared by two nodes)', () => {
  const prefix = `portico-test-${randomUUID().slice(0, 8)}:`
  let a: AdminNode
  let b: AdminNode
  let one: Upstream
  before(async () => {
    const settings = { configStore: 'redis' as const, redisUrl: process.env.REDIS_URL, keyPrefix: prefix }
    a = await adminNode(settings)
    b = await adminNode(settings)
    one = await upstream('one')
  })
  after(async () => {
    await a.stop()
    await b.stop()
    await one.close()
  })

  test('registered through one node, routed by both; expired everywhere after its TTL', async () => {
    const r = await a.req('POST', '/registry/services/shared/instances', { url: one.url, ttl: 1 })
    assert.equal(r.status, 201)
    assert.ok(await eventually(async () => (await call(`${b.proxy}/api/shared`)).status === 200))
    const seen = await b.req('GET', '/registry/services/shared')
    assert.equal((seen.body.instances as Array<{ id: string }>)[0]?.id, r.body.id)
    assert.equal(
      (await b.req('PUT', `/registry/services/shared/instances/${r.body.id}`, { ttl: 1 })).status,
      200,
    )
    assert.ok(await eventually(async () => (await call(`${a.proxy}/api/shared`)).status === 404))
    assert.ok(await eventually(async () => (await call(`${b.proxy}/api/shared`)).status === 404))
    assert.equal((await a.req('PUT', `/registry/services/shared/instances/${r.body.id}`, {})).status, 404)
  })
})

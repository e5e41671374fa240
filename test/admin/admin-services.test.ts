import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('Admin API: services', () => {
  let a: AdminNode
  let up: Upstream
  before(async () => {
    a = await adminNode()
    up = await upstream('up')
  })
  after(async () => {
    await a.stop()
    await up.close()
  })

  for (const form of [false, true]) {
    test(`POST /services creates one with Kong's defaults (${form ? 'form' : 'JSON'})`, async () => {
      const name = `svc-${form ? 'form' : 'json'}`
      const res = await a.req('POST', '/services', { name, protocol: 'http', host: 'service.com' }, { form })
      assert.equal(res.status, 201)
      const s = res.body
      assert.match(String(s.id), UUID)
      assert.equal(typeof s.created_at, 'number')
      assert.equal(typeof s.updated_at, 'number')
      assert.deepEqual(
        [s.name, s.protocol, s.host, s.port, s.path, s.retries, s.connect_timeout, s.read_timeout, s.tags],
        [name, 'http', 'service.com', 80, null, 5, 60000, 60000, null],
      )
    })
  }

  test('the url shorthand: https means port 443, the path is kept; a bad url is a 400', async () => {
    const res = await a.req('POST', '/services', { url: 'https://service.com/' }, { form: true })
    assert.equal(res.status, 201)
    assert.deepEqual(
      [res.body.protocol, res.body.host, res.body.port, res.body.path],
      ['https', 'service.com', 443, '/'],
    )
    for (const url of ['', ' ', 'invalid url', 'ftp://x']) {
      const bad = await a.req('POST', '/services', { url }, { form: true })
      assert.equal(bad.status, 400, url)
      assert.equal(bad.body.code, 2)
    }
  })

  test('schema violations: missing host, wrong protocol, several at once', async () => {
    const missing = await a.req('POST', '/services', {})
    assert.equal(missing.status, 400)
    assert.deepEqual(missing.body, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (host: required field missing)',
      fields: { host: 'required field missing' },
    })
    const proto = await a.req('POST', '/services', { host: 'example.com', protocol: 'foo' })
    assert.equal(proto.status, 400)
    assert.deepEqual(Object.keys(proto.body.fields as object), ['protocol'])
    const two = await a.req('POST', '/services', { host: 'example.com', port: 99999, retries: -1 })
    assert.match(String(two.body.message), /^2 schema violations \(/)
  })

  test('GET by id and by name; 404 with Kong body when unknown', async () => {
    const created = (await a.req('POST', '/services', { name: 'lookup', host: 'h.test' })).body
    assert.deepEqual((await a.req('GET', `/services/${created.id}`)).body, created)
    assert.deepEqual((await a.req('GET', '/services/lookup')).body, created)
    const missing = await a.req('GET', '/services/does-not-exist')
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.body, { message: 'Not found' })
    assert.equal((await a.req('GET', '/services/1f1e2c3d-0000-4000-8000-000000000000')).status, 404)
  })

  test('409 on a duplicate name; 400 (code 3) on a duplicate id', async () => {
    const first = await a.req('POST', '/services', { name: 'dup', host: 'h.test' })
    const again = await a.req('POST', '/services', { name: 'dup', host: 'other.test' })
    assert.equal(again.status, 409)
    assert.deepEqual(again.body, {
      code: 5,
      name: 'unique constraint violation',
      message: `UNIQUE violation detected on '{name="dup"}'`,
      fields: { name: 'dup' },
    })
    const sameId = await a.req('POST', '/services', { id: first.body.id, host: 'h.test' })
    assert.equal(sameId.status, 400)
    assert.equal(sameId.body.code, 3)
  })

  test('PATCH merges, null unsets, url replaces protocol/host/port/path', async () => {
    const s = (await a.req('POST', '/services', { name: 'patchme', url: 'http://h.test:8080/v1' })).body
    const patched = await a.req(
      'PATCH',
      '/services/patchme',
      { retries: '6', protocol: 'https' },
      { form: true },
    )
    assert.equal(patched.status, 200)
    assert.deepEqual([patched.body.retries, patched.body.protocol, patched.body.port], [6, 'https', 8080])
    const url = await a.req('PATCH', `/services/${s.id}`, { url: 'http://other.test' })
    assert.deepEqual([url.body.host, url.body.port, url.body.path], ['other.test', 80, null])
    const unnamed = await a.req('PATCH', `/services/${s.id}`, { name: null })
    assert.equal(unnamed.body.name, null)
    assert.equal(unnamed.body.id, s.id)
    assert.equal((await a.req('PATCH', '/services/nope', { retries: 1 })).status, 404)
  })

  test('PUT creates by name or id, then replaces whole (defaults back), keeping id and created_at', async () => {
    const made = await a.req('PUT', '/services/put-svc', { host: 'h.test', retries: 9 })
    assert.equal(made.status, 200)
    assert.equal(made.body.name, 'put-svc')
    const replaced = await a.req('PUT', '/services/put-svc', { host: 'h2.test' })
    assert.equal(replaced.status, 200)
    assert.deepEqual(
      [replaced.body.id, replaced.body.retries, replaced.body.host],
      [made.body.id, 5, 'h2.test'],
    )
    assert.equal(replaced.body.created_at, made.body.created_at)
    const id = '6f1e2c3d-0000-4000-8000-0000000000aa'
    const byId = await a.req('PUT', `/services/${id}`, { host: 'h.test' })
    assert.equal(byId.body.id, id)
    const mismatch = await a.req('PUT', '/services/put-svc', { name: 'other', host: 'h.test' })
    assert.equal(mismatch.status, 400)
    assert.deepEqual(Object.keys(mismatch.body.fields as object), ['name'])
  })

  test('DELETE answers 204, also for what does not exist', async () => {
    await a.req('POST', '/services', { name: 'gone', host: 'h.test' })
    assert.equal((await a.req('DELETE', '/services/gone')).status, 204)
    assert.equal((await a.req('GET', '/services/gone')).status, 404)
    assert.equal((await a.req('DELETE', '/services/gone')).status, 204)
  })

  test('a service and a route made through the API proxy at once; deleting the service cascades', async () => {
    const svc = await a.req('POST', '/services', { name: 'live', url: up.url }, { form: true })
    const route = await a.req('POST', '/services/live/routes', [
      ['paths[]', '/live'],
      ['name', 'live-route'],
    ])
    assert.equal(route.status, 201)
    assert.deepEqual(route.body.service, { id: svc.body.id })
    const res = await call(`${a.proxy}/live/x?q=1`)
    assert.equal(res.status, 200)
    assert.equal((res.json() as { url: string }).url, '/x?q=1')
    const plugin = await a.req('POST', '/routes/live-route/plugins', {
      name: 'rate-limiting',
      config: { minute: 5 },
    })
    assert.equal(plugin.status, 201)
    const svcPlugin = await a.req('POST', '/services/live/plugins', { name: 'key-auth' })
    assert.equal(svcPlugin.status, 201)
    assert.equal((await a.req('DELETE', '/services/live')).status, 204)
    assert.equal((await a.req('GET', '/routes/live-route')).status, 404)
    assert.equal((await a.req('GET', `/plugins/${plugin.body.id}`)).status, 404)
    assert.equal((await a.req('GET', `/plugins/${svcPlugin.body.id}`)).status, 404)
    assert.equal((await call(`${a.proxy}/live/x`)).status, 404)
  })

  test('an empty list is {"data":[],"next":null}', async () => {
    const b = await adminNode()
    try {
      const res = await b.req('GET', '/services')
      assert.equal(res.text, '{"data":[],"next":null}')
      assert.equal(
        (
          await b.req('GET', '/services', 'this fails if decoded as json', {
            headers: { 'content-type': 'application/json' },
          })
        ).status,
        200,
      )
    } finally {
      await b.stop()
    }
  })

  test('pagination: size, offset, next; Kong errors for bad size and offset', async () => {
    const b = await adminNode()
    try {
      for (let i = 0; i < 10; i++)
        await b.req('POST', '/services', { name: `p${i}`, host: 'h.test', tags: [i < 5 ? 'low' : 'high'] })
      const names: string[] = []
      let path = '/services?size=3'
      const sizes: number[] = []
      for (;;) {
        const page = await b.req('GET', path)
        assert.equal(page.status, 200)
        const data = page.body.data as Array<{ name: string }>
        sizes.push(data.length)
        names.push(...data.map((s) => s.name))
        if (page.body.next === null) {
          assert.equal(page.body.offset, undefined)
          break
        }
        assert.equal(typeof page.body.offset, 'string')
        path = String(page.body.next)
      }
      assert.deepEqual(sizes, [3, 3, 3, 1])
      assert.deepEqual(
        names,
        Array.from({ length: 10 }, (_, i) => `p${i}`),
      )
      for (const size of ['0', '1001', 'abc']) {
        const bad = await b.req('GET', `/services?size=${size}`)
        assert.equal(bad.status, 400)
        assert.equal(bad.body.code, 9)
      }
      const badOffset = await b.req('GET', '/services?offset=not-an-offset')
      assert.equal(badOffset.status, 400)
      assert.equal(badOffset.body.code, 7)
      const low = await b.req('GET', '/services?tags=low')
      assert.equal((low.body.data as unknown[]).length, 5)
    } finally {
      await b.stop()
    }
  })
})

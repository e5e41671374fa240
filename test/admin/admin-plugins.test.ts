import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createRegistry } from '../../src/plugins/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

describe('Admin API: plugins', () => {
  let a: AdminNode
  let up: Upstream
  let service: Record<string, unknown>
  before(async () => {
    a = await adminNode()
    up = await upstream('up')
    service = (await a.req('POST', '/services', { name: 'example_service', url: up.url })).body
    await a.req('POST', '/services/example_service/routes', { name: 'example_route', paths: ['/mock'] })
    await a.req('POST', '/consumers', { username: 'jsmith' })
  })
  after(async () => {
    await a.stop()
    await up.close()
  })

  test('form fields are typed by the plugin schema: config.minute=5 is a number, defaults are filled', async () => {
    const res = await a.req('POST', '/plugins', [
      ['name', 'rate-limiting'],
      ['config.minute', '5'],
      ['config.policy', 'local'],
      ['config.fault_tolerant', 'false'],
    ])
    assert.equal(res.status, 201)
    assert.deepEqual(res.body.config, {
      minute: 5,
      policy: 'local',
      limit_by: 'consumer',
      fault_tolerant: false,
      redis: { port: 6379 },
    })
    assert.deepEqual(
      [res.body.service, res.body.route, res.body.consumer, res.body.enabled],
      [null, null, null, true],
    )
    assert.deepEqual(res.body.protocols, ['grpc', 'grpcs', 'http', 'https'])
    assert.equal((await a.req('DELETE', `/plugins/${res.body.id}`)).status, 204)
  })

  test('config errors are nested as Kong nests them; an unknown plugin is a 400 on name', async () => {
    const nan = await a.req('POST', '/plugins', [
      ['name', 'rate-limiting'],
      ['config.minute', 'abc'],
    ])
    assert.equal(nan.status, 400)
    assert.equal(nan.body.code, 2)
    assert.deepEqual(Object.keys(nan.body.fields as object), ['config'])
    assert.equal(typeof (nan.body.fields as { config: { minute: unknown } }).config.minute, 'string')
    const extra = await a.req('POST', '/plugins', { name: 'rate-limiting', config: { minute: 1, foo: 1 } })
    assert.deepEqual(extra.body.fields, { config: { foo: 'unknown field' } })
    const unknown = await a.req('POST', '/plugins', { name: 'no-such-plugin' })
    assert.equal(unknown.status, 400)
    assert.deepEqual(Object.keys(unknown.body.fields as object), ['name'])
    const missing = await a.req('POST', '/plugins', {})
    assert.deepEqual(missing.body, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (name: required field missing)',
      fields: { name: 'required field missing' },
    })
  })

  test('list values: config.key_names[]=, [1]/[2] indexes, or one bare value', async () => {
    const cases: Array<Array<[string, string]>> = [
      [
        ['config.key_names[]', 'apikey'],
        ['config.key_names[]', 'key'],
      ],
      [
        ['config.key_names[2]', 'key'],
        ['config.key_names[1]', 'apikey'],
      ],
    ]
    for (const fields of cases) {
      const res = await a.req('POST', '/services/example_service/plugins', [['name', 'key-auth'], ...fields])
      assert.equal(res.status, 201)
      assert.deepEqual((res.body.config as { key_names: string[] }).key_names, ['apikey', 'key'])
      assert.deepEqual(res.body.service, { id: service.id })
      await a.req('DELETE', `/plugins/${res.body.id}`)
    }
    const single = await a.req('POST', '/plugins', [
      ['name', 'key-auth'],
      ['config.key_names', 'apikey'],
    ])
    assert.deepEqual((single.body.config as { key_names: string[] }).key_names, ['apikey'])
    await a.req('DELETE', `/plugins/${single.body.id}`)
  })

  test('one plugin of a name per scope (409 with the scope as fields); auth plugins not on consumers', async () => {
    const first = await a.req('POST', '/services/example_service/plugins', {
      name: 'rate-limiting',
      config: { second: 5 },
    })
    const again = await a.req('POST', '/services/example_service/plugins', {
      name: 'rate-limiting',
      config: { second: 6 },
    })
    assert.equal(again.status, 409)
    assert.deepEqual(again.body.fields, {
      consumer: null,
      name: 'rate-limiting',
      route: null,
      service: { id: service.id },
    })
    const onConsumer = await a.req('POST', '/plugins', [
      ['name', 'rate-limiting'],
      ['consumer.username', 'jsmith'],
      ['config.second', '5'],
    ])
    assert.equal(onConsumer.status, 201)
    assert.ok((onConsumer.body.consumer as { id: string }).id)
    const auth = await a.req('POST', '/consumers/jsmith/plugins', { name: 'key-auth' })
    assert.equal(auth.status, 400)
    assert.match(String(auth.body.message), /cannot be applied to a consumer/)
    await a.req('DELETE', `/plugins/${first.body.id}`)
    await a.req('DELETE', `/plugins/${onConsumer.body.id}`)
  })

  test('PATCH merges config field by field; null removes a reference; an unknown field changes nothing', async () => {
    const p = await a.req('POST', '/routes/example_route/plugins', {
      name: 'rate-limiting',
      config: { minute: 5, hour: 100, redis: { host: 'r1' } },
    })
    const patched = await a.req('PATCH', `/plugins/${p.body.id}`, [
      ['config.minute', '10'],
      ['config.redis.port', '7000'],
      ['enabled', 'false'],
    ])
    assert.equal(patched.status, 200)
    assert.deepEqual(patched.body.config, {
      minute: 10,
      hour: 100,
      policy: 'local',
      limit_by: 'consumer',
      fault_tolerant: true,
      redis: { host: 'r1', port: 7000 },
    })
    assert.equal(patched.body.enabled, false)
    const bad = await a.req('PATCH', `/plugins/${p.body.id}`, { foo: 'bar' })
    assert.deepEqual(bad.body, {
      message: 'schema violation (foo: unknown field)',
      name: 'schema violation',
      fields: { foo: 'unknown field' },
      code: 2,
    })
    assert.deepEqual((await a.req('GET', `/plugins/${p.body.id}`)).body, patched.body)
    // Kong: null unsets an optional config field and is refused where a value is required
    const unset = await a.req('PATCH', `/plugins/${p.body.id}`, { config: { hour: null } })
    assert.equal(unset.status, 200, unset.text)
    assert.equal((unset.body.config as Record<string, unknown>).hour, undefined)
    const required = await a.req('PATCH', `/plugins/${p.body.id}`, { config: { policy: null } })
    assert.equal(required.status, 400)
    assert.deepEqual(required.body.fields, { config: { policy: 'required field missing' } })
    const detached = await a.req('PATCH', `/routes/example_route/plugins/${p.body.id}`, { route: null })
    assert.equal(detached.body.route, null)
    assert.equal((await a.req('GET', `/plugins/${p.body.id}/route`)).status, 404)
    await a.req('DELETE', `/plugins/${p.body.id}`)
  })

  test('a plugin the data plane cannot build is refused and nothing changes (the proxy keeps serving)', async () => {
    const before = (await a.req('GET', '/plugins')).body
    const res = await a.req('POST', '/plugins', { name: 'refuses-to-load' })
    assert.equal(res.status, 400)
    assert.match(String(res.body.message), /could not be applied: this plugin needs Redis/)
    assert.deepEqual((await a.req('GET', '/plugins')).body, before)
    assert.equal((await call(`${a.proxy}/mock/x`)).status, 200)
  })

  test('PUT /plugins/{uuid} creates it; /plugins/enabled and /schemas/plugins/{name}', async () => {
    const id = '3c3c3c3c-0000-4000-8000-000000000001'
    const res = await a.req('PUT', `/plugins/${id}`, { name: 'rate-limiting', config: { hour: 1 } })
    assert.equal(res.status, 200)
    assert.equal(res.body.id, id)
    // every plugin this node can run: the registry's list plus the test's extra plugins
    const enabled = (await a.req('GET', '/plugins/enabled')).body.enabled_plugins as string[]
    assert.deepEqual(enabled, [...createRegistry().names(), 'purge-test', 'refuses-to-load'].sort())
    assert.ok(enabled.includes('key-auth') && enabled.includes('rate-limiting'))
    const schema = await a.req('GET', '/schemas/plugins/rate-limiting')
    assert.equal(schema.status, 200)
    const fields = schema.body.fields as Array<Record<string, { fields?: Array<Record<string, unknown>> }>>
    const config = fields.find((f) => 'config' in f)?.config?.fields ?? []
    assert.ok(config.some((f) => 'minute' in f))
    const json = await a.req('GET', '/schemas/plugins/rate-limiting?format=jsonschema')
    assert.ok('minute' in (json.body.properties as object))
    assert.equal((await a.req('GET', '/schemas/plugins/nope')).status, 404)
    await a.req('DELETE', `/plugins/${id}`)
  })

  test('endpoints a plugin contributes are mounted; built-in ones cannot be taken over', async () => {
    const got = await a.req('GET', '/purge-test/some%2Fkey?q=1')
    assert.deepEqual(got.body, { key: 'some/key', q: '1', body: {} })
    assert.equal((await a.req('DELETE', '/purge-test/k')).status, 204)
    assert.equal((await a.req('POST', '/purge-test/k')).status, 405)
    assert.equal((await a.req('GET', '/services')).status, 200)
  })
})

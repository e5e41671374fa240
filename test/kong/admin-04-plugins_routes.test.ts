// Port of Kong 3.10 spec/02-integration/04-admin_api/04-plugins_routes_spec.lua: each case
// carries the name of the Kong `it(...)` it transcribes. Kong's `db.plugins:select` checks are
// made through `GET /plugins/{id}`.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { raw } from '../fixtures/helpers.js'

let a: AdminNode
const services: Array<Record<string, unknown>> = []
const plugins: Array<Record<string, unknown>> = []
const get = async (path: string) => (await a.req('GET', path)).body

before(async () => {
  a = await adminNode({}, null, [])
  for (let i = 1; i <= 4; i++) {
    const service = await a.req('POST', '/services', {
      name: `service-${i}`,
      protocol: 'http',
      host: '127.0.0.1',
      port: 15555,
    })
    assert.equal(service.status, 201)
    services.push(service.body)
    if (i < 4)
      await a.req('POST', '/routes', { service: { id: service.body.id }, hosts: [`route_${i}.test`] })
    const plugin = await a.req('POST', '/plugins', {
      name: 'key-auth',
      instance_name: i < 4 ? `key-auth-${i}` : '円',
      service: { id: service.body.id },
      config: { key_names: ['testkey'] },
    })
    assert.equal(plugin.status, 201)
    plugins.push(plugin.body)
  }
})
after(() => a.stop())

const p = (i: number) => plugins[i - 1] as Record<string, unknown>
const newService = async () => (await a.req('POST', '/services', { host: 'example.test' })).body

describe('Admin API: /plugins/enabled', () => {
  it('returns a list of enabled plugins on this node', async () => {
    const res = await a.req('GET', '/plugins/enabled')
    assert.equal(res.status, 200)
    assert.ok(Array.isArray(res.body.enabled_plugins))
    assert.ok((res.body.enabled_plugins as unknown[]).length > 0)
  })
})

describe('Admin API: /plugins', () => {
  it('retrieves all plugins configured', async () => {
    const res = await a.req('GET', '/plugins')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 4)
  })
  it('returns 405 on invalid method', async () => {
    for (const method of ['DELETE', 'PATCH']) {
      const res = await a.req(method, '/plugins', {})
      assert.equal(res.status, 405)
      assert.deepEqual(res.body, { message: 'Method not allowed' })
    }
  })
})

describe('Admin API: /plugins/{plugin} GET', () => {
  it('retrieves a plugin by id', async () => {
    const res = await a.req('GET', `/plugins/${p(1).id}`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, p(1))
  })
  it('retrieves a plugin by instance_name', async () => {
    const res = await a.req('GET', `/plugins/${p(1).instance_name}`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, p(1))
  })
  it('returns 404 if not found', async () => {
    assert.equal((await a.req('GET', '/plugins/f4aecadc-05c7-11e6-8d41-1f3b3d5fa15c')).status, 404)
  })
  it('returns 404 if not found by instance_name', async () => {
    assert.equal((await a.req('GET', '/plugins/not-found')).status, 404)
  })
  it('retrieves by utf-8 name and percent-escaped utf-8 name', async () => {
    // Kong's client writes the name as raw UTF-8 bytes in the request line
    const out = await raw(
      a.node.admin?.port as number,
      'GET /plugins/円 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    )
    assert.match(out, /^HTTP\/1.1 200/)
    const body = Buffer.from(out.slice(out.indexOf('\r\n\r\n') + 4), 'latin1').toString('utf8')
    assert.deepEqual(JSON.parse(body), p(4))
    const res = await a.req('GET', '/plugins/%E5%86%86')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, p(4))
  })
})

describe('Admin API: /plugins/{plugin} PUT', () => {
  it('can create a plugin', async () => {
    const service = await newService()
    await a.req('POST', '/routes', { paths: ['/mypath'], service: { id: service.id } })
    const res = await a.req('PUT', `/plugins/${crypto.randomUUID()}`, {
      name: 'key-auth',
      service: { id: service.id },
    })
    assert.equal(res.status, 200)
  })
  it('can create a plugin by instance_name', async () => {
    const service = await newService()
    const instanceName = `name-${crypto.randomUUID()}`
    const res = await a.req('PUT', `/plugins/${instanceName}`, {
      name: 'key-auth',
      service: { id: service.id },
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.instance_name, instanceName)
  })
  it('can upsert a plugin by instance_name', async () => {
    const service = await newService()
    const instanceName = `name-${crypto.randomUUID()}`
    const first = await a.req('PUT', `/plugins/${instanceName}`, {
      name: 'key-auth',
      service: { id: service.id },
      config: { key_names: ['testkey'] },
    })
    assert.equal(first.status, 200)
    const second = await a.req('PUT', `/plugins/${instanceName}`, {
      name: 'key-auth',
      service: { id: service.id },
      config: { key_names: ['testkey2'] },
    })
    assert.equal(second.status, 200)
    // an upsert keeps the plugin's id
    assert.equal(second.body.id, first.body.id)
    assert.equal((second.body.config as { key_names: string[] }).key_names[0], 'testkey2')
  })
})

describe('Admin API: /plugins/{plugin} PATCH', () => {
  it('updates a plugin', async () => {
    const res = await a.req('PATCH', `/plugins/${p(1).id}`, { enabled: false })
    assert.equal(res.status, 200)
    assert.equal(res.body.enabled, false)
    assert.deepEqual(await get(`/plugins/${p(1).id}`), res.body)
  })
  it('updates a plugin by instance_name', async () => {
    const res = await a.req('PATCH', `/plugins/${p(2).instance_name}`, { enabled: false })
    assert.equal(res.status, 200)
    assert.equal(res.body.enabled, false)
    assert.deepEqual(await get(`/plugins/${p(2).id}`), res.body)
  })
  it('updates a plugin bis', async () => {
    const plugin = await get(`/plugins/${p(2).id}`)
    plugin.enabled = !plugin.enabled
    delete plugin.created_at
    delete plugin.updated_at
    const res = await a.req('PATCH', `/plugins/${plugin.id}`, plugin)
    assert.equal(res.status, 200)
    assert.equal(res.body.enabled, plugin.enabled)
  })
  it('updates a plugin (removing foreign key reference)', async () => {
    assert.equal((p(2).service as { id: string }).id, services[1]?.id)
    const res = await a.req('PATCH', `/plugins/${p(2).id}`, { service: null })
    assert.equal(res.status, 200)
    assert.equal(res.body.service, null)
    assert.deepEqual(await get(`/plugins/${p(2).id}`), res.body)
  })
  it('does not infer json input', async () => {
    assert.equal((await a.req('PATCH', `/plugins/${p(2).id}`, { tags: null })).status, 200)
  })
  it('handles invalid input', async () => {
    const before = await get(`/plugins/${p(1).id}`)
    const res = await a.req('PATCH', `/plugins/${p(1).id}`, { foo: 'bar' })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, {
      message: 'schema violation (foo: unknown field)',
      name: 'schema violation',
      fields: { foo: 'unknown field' },
      code: 2,
    })
    const after = await get(`/plugins/${p(1).id}`)
    assert.deepEqual(after, before)
    assert.deepEqual((after.config as { key_names: string[] }).key_names, ['testkey'])
  })
  it('handles invalid config, see #9224', async () => {
    const before = await get(`/plugins/${p(1).id}`)
    const res = await a.req('PATCH', `/plugins/${p(1).id}`, { config: 'bar' })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, {
      message: 'schema violation (config: expected a record)',
      name: 'schema violation',
      fields: { config: 'expected a record' },
      code: 2,
    })
    const after = await get(`/plugins/${p(1).id}`)
    assert.deepEqual(after, before)
    assert.deepEqual((after.config as { key_names: string[] }).key_names, ['testkey'])
  })
  it('returns 404 if not found', async () => {
    const res = await a.req('PATCH', '/plugins/f4aecadc-05c7-11e6-8d41-1f3b3d5fa15c', { enabled: false })
    assert.equal(res.status, 404)
  })
})

describe('Admin API: /plugins/{plugin} DELETE', () => {
  it('deletes by id', async () => {
    assert.equal((await a.req('DELETE', `/plugins/${p(3).id}`)).status, 204)
  })
  it('deletes by instance_name', async () => {
    const port = a.node.admin?.port as number
    const out = await raw(port, 'DELETE /plugins/円 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
    assert.match(out, /^HTTP\/1.1 204/)
    assert.ok(out.endsWith('\r\n\r\n'), 'no body')
    assert.match(
      await raw(port, 'GET /plugins/円 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1.1 404/,
    )
  })
  it('returns 204 if not found', async () => {
    assert.equal((await a.req('DELETE', '/plugins/f4aecadc-05c7-11e6-8d41-1f3b3d5fa15c')).status, 204)
  })
  it('returns 204 if not found by instance_name', async () => {
    assert.equal((await a.req('DELETE', '/plugins/not-found')).status, 204)
  })
})

describe('Admin API: /schemas/plugins/{plugin}', () => {
  it('returns the schema of all bundled plugins', async () => {
    const enabled = (await get('/plugins/enabled')).enabled_plugins as string[]
    for (const plugin of enabled) {
      const res = await a.req('GET', `/schemas/plugins/${plugin}`)
      assert.equal(res.status, 200, plugin)
      assert.ok(Array.isArray(res.body.fields), plugin)
      assert.ok(Array.isArray(res.body.entity_checks), plugin)
    }
  })
  it('returns nested records and empty array defaults as arrays', async () => {
    const res = await a.req('GET', '/schemas/plugins/request-transformer')
    assert.equal(res.status, 200)
    assert.ok(!res.text.includes('"entity_checks":{'))
    assert.ok(!res.text.includes('"fields":{'))
    assert.ok(res.text.includes('"default":[]'))
    assert.ok(!res.text.includes('"default":{}'))
  })
  it('returns 404 on invalid plugin', async () => {
    const res = await a.req('GET', '/schemas/plugins/foobar')
    assert.equal(res.status, 404)
    assert.deepEqual(res.body, { message: "No plugin named 'foobar'" })
  })
})

// Port of Kong 3.10 spec/03-plugins/23-rate-limiting/03-api_spec.lua: each case carries the
// name of the Kong `it(...)` it transcribes. Kong runs the file once per strategy; Portico
// keeps its entities in memory (or Redis) and is configured like Kong's db-less node for
// `/config`, and like a database node for `/plugins`: both branches are transcribed.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

type Json = Record<string, unknown>
let a: AdminNode
let route: Json
let route2: Json
before(async () => {
  // Portico's cluster policy keeps its counters in Redis (as redis does): the node has one
  a = await adminNode({ redisUrl: process.env.REDIS_URL }, null, [])
  const service = (await a.req('POST', '/services', { host: 'example.test' })).body
  route = (await a.req('POST', '/routes', { hosts: ['test1.test'], protocols: ['http', 'https'], service }))
    .body
  route2 = (await a.req('POST', '/routes', { hosts: ['test2.test'], protocols: ['http', 'https'], service }))
    .body
})
after(() => a.stop())

describe('Plugin: rate-limiting (API) POST', () => {
  it('should not save with empty config', async () => {
    const res = await a.req('POST', '/plugins', { name: 'rate-limiting', route: { id: route.id } })
    assert.equal(res.status, 400)
    const msg =
      "at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'"
    assert.deepEqual(res.body, {
      code: 2,
      fields: { '@entity': [msg] },
      message: `schema violation (${msg})`,
      name: 'schema violation',
    })
  })
  it('should save with proper config', async () => {
    const res = await a.req('POST', '/plugins', {
      name: 'rate-limiting',
      route: { id: route.id },
      config: { second: 10 },
    })
    assert.equal(res.status, 201)
    assert.equal((res.body.config as Json).second, 10)
  })
  it('sets policy to local by default', async () => {
    const res = await a.req('POST', '/plugins', { name: 'rate-limiting', config: { second: 10 } })
    assert.equal(res.status, 201, res.text)
    assert.equal((res.body.config as Json).policy, 'local')
  })
  it('does allow setting policy to cluster on non-dbless', async () => {
    const res = await a.req('POST', '/plugins', {
      name: 'rate-limiting',
      route: { id: route2.id },
      config: { policy: 'cluster', second: 10 },
    })
    assert.equal(res.status, 201)
    assert.equal((res.body.config as Json).policy, 'cluster')
  })
})

describe('Plugin: rate-limiting (API) POST (db-less: /config)', () => {
  // `/config` replaces every entity: a node of its own
  let b: AdminNode
  before(async () => {
    b = await adminNode({}, null, [])
  })
  after(() => b.stop())
  it('sets policy to local by default on dbless', async () => {
    const id = 'bac2038a-205c-4013-8830-e6dde503a3e3'
    const res = await b.req('POST', '/config', {
      _format_version: '1.1',
      plugins: [{ id, name: 'rate-limiting', config: { second: 10 } }],
    })
    assert.equal(res.status, 201, res.text)
    const plugins = res.body.plugins as Record<string, { config: Json }>
    assert.equal(plugins[id]?.config.policy, 'local')
  })
  it('does not allow setting policy to cluster on dbless', {
    skip: 'cluster is the Redis policy in Portico, with or without /config: docs/kong-compatibility.md "rate-limiting cluster policy"',
  }, async () => {
    const id = 'bac2038a-205c-4013-8830-e6dde503a3e3'
    const res = await b.req('POST', '/config', {
      _format_version: '1.1',
      plugins: [{ id, name: 'rate-limiting', config: { policy: 'cluster', second: 10 } }],
    })
    assert.equal(res.status, 400)
    const fields = res.body.fields as { plugins: Array<{ config: Json }> }
    assert.equal(fields.plugins[0]?.config.policy, 'expected one of: local, redis')
  })
})

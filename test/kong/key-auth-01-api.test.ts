// Port of Kong 3.10 spec/03-plugins/09-key-auth/01-api_spec.lua: each case carries the name of
// the Kong `it(...)` it transcribes. Kong's `db:truncate("keyauth_credentials")` is `truncate()`
// (every credential deleted through the Admin API).
import assert from 'node:assert/strict'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

type Json = Record<string, unknown>
let a: AdminNode
let consumer: Json
let route1: Json
let route2: Json

before(async () => {
  a = await adminNode({}, null, [])
  const service = (await a.req('POST', '/services', { host: 'example.test' })).body
  route1 = (await a.req('POST', '/routes', { hosts: ['keyauth1.test'], service: { id: service.id } })).body
  route2 = (await a.req('POST', '/routes', { hosts: ['keyauth2.test'], service: { id: service.id } })).body
  consumer = (await a.req('POST', '/consumers', { username: 'bob' })).body
})
after(() => a.stop())

const truncate = async () => {
  for (;;) {
    const data = (await a.req('GET', '/key-auths?size=1000')).body.data as Json[]
    if (data.length === 0) return
    for (const c of data) await a.req('DELETE', `/key-auths/${c.id}`)
  }
}
const insert = async (consumerId = consumer.id, fields: Json = {}) => {
  const res = await a.req('POST', `/consumers/${consumerId}/key-auth`, fields)
  assert.equal(res.status, 201, res.text)
  return res.body
}

describe('Plugin: key-auth (API) /consumers/:consumer/key-auth POST', () => {
  afterEach(truncate)
  it('creates a key-auth credential with key', async () => {
    const res = await a.req('POST', '/consumers/bob/key-auth', { key: '1234' })
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(res.body.key, '1234')
  })
  it('creates a key-auth auto-generating a unique key', async () => {
    const first = await a.req('POST', '/consumers/bob/key-auth', {})
    assert.equal(first.status, 201)
    assert.equal((first.body.consumer as Json).id, consumer.id)
    assert.equal(typeof first.body.key, 'string')
    await truncate()
    const second = await a.req('POST', '/consumers/bob/key-auth', {})
    assert.equal(second.status, 201)
    assert.equal(typeof second.body.key, 'string')
    assert.notEqual(second.body.key, first.body.key)
  })
  it('creates a key-auth credential with tags', async () => {
    const res = await a.req('POST', '/consumers/bob/key-auth', {
      key: 'keyauth-with-tags',
      tags: ['tag1', 'tag2'],
    })
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.deepEqual(res.body.tags, ['tag1', 'tag2'])
  })
  it('creates a key-auth credential with a ttl', async () => {
    const res = await a.req('POST', '/consumers/bob/key-auth', { ttl: 1 })
    assert.equal(res.status, 201, res.text)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(typeof res.body.key, 'string')
    await new Promise((r) => setTimeout(r, 3000))
    assert.equal((await a.req('GET', `/consumers/bob/key-auth/${res.body.id}`)).status, 404)
  })
})

describe('Plugin: key-auth (API) /consumers/:consumer/key-auth GET', () => {
  before(async () => {
    for (let i = 0; i < 3; i++) await insert()
  })
  after(truncate)
  it('retrieves the first page', async () => {
    const res = await a.req('GET', '/consumers/bob/key-auth')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 3)
  })
})

describe('Plugin: key-auth (API) /consumers/:consumer/key-auth GET #ttl', () => {
  before(async () => {
    for (let i = 0; i < 3; i++) await insert(consumer.id, { ttl: 10 })
  })
  after(truncate)
  it('entries contain ttl when specified', async () => {
    const res = await a.req('GET', '/consumers/bob/key-auth')
    assert.equal(res.status, 200)
    for (const credential of res.body.data as Json[]) assert.notEqual(credential.ttl, undefined)
  })
})

describe('Plugin: key-auth (API) /consumers/:consumer/key-auth/:id', () => {
  let credential: Json
  beforeEach(async () => {
    await truncate()
    credential = await insert()
  })
  it('retrieves key-auth credential by id', async () => {
    const res = await a.req('GET', `/consumers/bob/key-auth/${credential.id}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, credential.id)
  })
  it('retrieves key-auth credential by key', async () => {
    const res = await a.req('GET', `/consumers/bob/key-auth/${credential.key}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, credential.id)
  })
  it('retrieves credential by id only if the credential belongs to the specified consumer', async () => {
    await a.req('POST', '/consumers', { username: 'alice' })
    assert.equal((await a.req('GET', `/consumers/bob/key-auth/${credential.id}`)).status, 200)
    assert.equal((await a.req('GET', `/consumers/alice/key-auth/${credential.id}`)).status, 404)
  })
  it('key-auth credential contains #ttl', async () => {
    const withTtl = await insert(consumer.id, { ttl: 10 })
    const res = await a.req('GET', `/consumers/bob/key-auth/${withTtl.id}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, withTtl.id)
    assert.notEqual(res.body.ttl, undefined)
  })
  it('creates a key-auth credential with key (PUT)', async () => {
    const res = await a.req('PUT', '/consumers/bob/key-auth/1234', {})
    assert.equal(res.status, 200, res.text)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(res.body.key, '1234')
  })
  it('creates a key-auth credential auto-generating the key (PUT)', async () => {
    const res = await a.req('PUT', '/consumers/bob/key-auth/c16bbff7-5d0d-4a28-8127-1ee581898f11', {})
    assert.equal(res.status, 200, res.text)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(typeof res.body.key, 'string')
  })
  it('updates a credential by id', async () => {
    const res = await a.req('PATCH', `/consumers/bob/key-auth/${credential.id}`, { key: '4321' })
    assert.equal(res.status, 200)
    assert.equal(res.body.key, '4321')
  })
  it('updates a credential by key', async () => {
    const res = await a.req('PATCH', `/consumers/bob/key-auth/${credential.key}`, { key: '4321UPD' })
    assert.equal(res.status, 200)
    assert.equal(res.body.key, '4321UPD')
  })
  it('handles invalid input', async () => {
    const res = await a.req('PATCH', `/consumers/bob/key-auth/${credential.id}`, { key: 123 })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { key: 'expected a string' })
  })
  it('deletes a credential', async () => {
    assert.equal((await a.req('DELETE', `/consumers/bob/key-auth/${credential.id}`)).status, 204)
  })
  it('returns 400 on invalid input', async () => {
    assert.equal((await a.req('DELETE', '/consumers/bob/key-auth/blah')).status, 404)
  })
  it('returns 404 if not found', async () => {
    const res = await a.req('DELETE', '/consumers/bob/key-auth/00000000-0000-0000-0000-000000000000')
    assert.equal(res.status, 404)
  })
})

describe('Plugin: key-auth (API) /plugins for route', () => {
  it('fails with invalid key_names', async () => {
    const res = await a.req('POST', '/plugins', {
      name: 'key-auth',
      route: { id: route1.id },
      config: { key_names: ['hello\\world'] },
    })
    assert.equal(res.status, 400)
    const fields = res.body.fields as { config: { key_names: string[] } }
    assert.equal(
      fields.config.key_names[0],
      "bad header name 'hello\\world', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
    )
  })
  it('succeeds with valid key_names', async () => {
    const res = await a.req('POST', '/plugins', {
      route: { id: route2.id },
      name: 'key-auth',
      config: { key_names: ['hello-world'] },
    })
    assert.equal(res.status, 201)
    assert.equal((res.body.config as { key_names: string[] }).key_names[0], 'hello-world')
  })
})

describe('Plugin: key-auth (API) /key-auths GET', () => {
  before(async () => {
    await truncate()
    for (let i = 0; i < 3; i++) await insert()
    const consumer2 = (await a.req('POST', '/consumers', { username: 'bob-the-buidler' })).body
    for (let i = 0; i < 3; i++) await insert(consumer2.id)
  })
  it('retrieves all the key-auths with trailing slash', async () => {
    const res = await a.req('GET', '/key-auths/')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 6)
  })
  it('retrieves all the key-auths without trailing slash', async () => {
    const res = await a.req('GET', '/key-auths')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 6)
  })
  it('paginates through the key-auths', async () => {
    const first = await a.req('GET', '/key-auths?size=3')
    assert.equal(first.status, 200)
    assert.equal((first.body.data as unknown[]).length, 3)
    const second = await a.req(
      'GET',
      `/key-auths?size=3&offset=${encodeURIComponent(String(first.body.offset))}`,
    )
    assert.equal(second.status, 200)
    assert.equal((second.body.data as unknown[]).length, 3)
    assert.notDeepEqual(second.body.data, first.body.data)
    // the last page: Kong's offset is absent (nil), not null
    assert.equal(second.body.offset, undefined)
  })
})

describe('Plugin: key-auth (API) /key-auths POST and PUT', () => {
  before(truncate)
  it('does not create key-auth credential when missing consumer', async () => {
    const res = await a.req('POST', '/key-auths', { key: '1234' })
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'schema violation (consumer: required field missing)')
  })
  it('creates key-auth credential', async () => {
    const res = await a.req('POST', '/key-auths', { key: '1234', consumer: { id: consumer.id } })
    assert.equal(res.status, 201)
    assert.equal(res.body.key, '1234')
  })
  it('does not create key-auth credential when missing consumer (PUT)', async () => {
    await truncate()
    const res = await a.req('PUT', '/key-auths/1234', {})
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'schema violation (consumer: required field missing)')
  })
  it('creates key-auth credential (PUT)', async () => {
    const res = await a.req('PUT', '/key-auths/1234', { consumer: { id: consumer.id } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.key, '1234')
  })
})

describe('Plugin: key-auth (API) /key-auths/:credential_key_or_id/consumer', () => {
  let credential: Json
  before(async () => {
    await truncate()
    credential = await insert()
  })
  it("retrieve Consumer from a credential's id", async () => {
    const res = await a.req('GET', `/key-auths/${credential.id}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
  it("retrieve a Consumer from a credential's key", async () => {
    const res = await a.req('GET', `/key-auths/${credential.key}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
  it('returns 404 for a random non-existing id', async () => {
    assert.equal((await a.req('GET', `/key-auths/${crypto.randomUUID()}/consumer`)).status, 404)
  })
  it('returns 404 for a random non-existing key', async () => {
    assert.equal((await a.req('GET', '/key-auths/aWbvNs0Lk2fU7pC4/consumer')).status, 404)
  })
})

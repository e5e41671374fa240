// Port of Kong 3.10 spec/03-plugins/10-basic-auth/02-api_spec.lua: each case carries the name
// of the Kong `it(...)` it transcribes. Kong's `db:truncate("basicauth_credentials")` is
// `truncate()` (every credential deleted through the Admin API).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

type Json = Record<string, unknown>
let a: AdminNode
let consumer: Json

before(async () => {
  a = await adminNode({}, null, [])
  consumer = (await a.req('POST', '/consumers', { username: 'bob' })).body
})
after(() => a.stop())

const truncate = async () => {
  for (;;) {
    const data = (await a.req('GET', '/basic-auths?size=1000')).body.data as Json[]
    if (data.length === 0) return
    for (const c of data) await a.req('DELETE', `/basic-auths/${c.id}`)
  }
}
const insert = async (consumerId: unknown, username: string, password: string) => {
  const res = await a.req('POST', `/consumers/${consumerId}/basic-auth`, { username, password })
  assert.equal(res.status, 201, res.text)
  return res.body
}
/** Kong's kong.plugins.basic-auth.crypto.hash: sha1(password .. consumer_id), hex */
const kongHash = (consumerId: string, password: string) =>
  createHash('sha1').update(`${password}${consumerId}`).digest('hex')
const HASH_SKIP =
  'passwords are stored as scrypt hashes: docs/kong-compatibility.md "basic-auth password hashes"'

describe('Plugin: basic-auth (API) /consumers/:consumer/basic-auth/', () => {
  afterEach(truncate)
  it('creates a basic-auth credential', async () => {
    const res = await a.req('POST', '/consumers/bob/basic-auth', { username: 'bob', password: 'kong' })
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(res.body.username, 'bob')
  })
  it('creates a basic-auth credential with tags', async () => {
    const res = await a.req('POST', '/consumers/bob/basic-auth/', {
      username: 'bobby',
      password: 'kong',
      tags: ['tag1', 'tag2'],
    })
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.deepEqual(res.body.tags, ['tag1', 'tag2'])
  })
  it('hashes the password', { skip: HASH_SKIP }, async () => {
    const res = await a.req('POST', '/consumers/bob/basic-auth', { username: 'bob', password: 'kong' })
    assert.equal(res.status, 201)
    assert.equal(typeof res.body.password, 'string')
    assert.notEqual(res.body.password, 'kong')
    assert.equal(res.body.password, kongHash(consumer.id as string, 'kong'))
  })
  it('hashes the password without trimming whitespace', { skip: HASH_SKIP }, async () => {
    const res = await a.req('POST', '/consumers/bob/basic-auth', { username: 'bob', password: ' kong ' })
    assert.equal(res.status, 201)
    assert.notEqual(res.body.password, ' kong ')
    assert.equal(res.body.password, kongHash(consumer.id as string, ' kong '))
  })
  it('returns bad request', async () => {
    const res = await a.req('POST', '/consumers/bob/basic-auth', {})
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, {
      username: 'required field missing',
      password: 'required field missing',
    })
  })
  it('cannot create two identical usernames', async () => {
    assert.equal(
      (await a.req('POST', '/consumers/bob/basic-auth', { username: 'bob', password: 'kong' })).status,
      201,
    )
    assert.equal(
      (await a.req('POST', '/consumers/bob/basic-auth', { username: 'bob', password: 'kong' })).status,
      409,
    )
  })
  it('retrieves the first page', async () => {
    for (let i = 1; i <= 3; i++) await insert(consumer.id, `bob${i}`, 'kong')
    const res = await a.req('GET', '/consumers/bob/basic-auth')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 3)
  })
})

describe('Plugin: basic-auth (API) /consumers/:consumer/basic-auth/:id', () => {
  let credential: Json
  beforeEach(async () => {
    await truncate()
    credential = await insert(consumer.id, 'bob', 'kong')
  })
  it('retrieves basic-auth credential by id', async () => {
    const res = await a.req('GET', `/consumers/bob/basic-auth/${credential.id}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, credential.id)
  })
  it('retrieves basic-auth credential by username', async () => {
    const res = await a.req('GET', `/consumers/bob/basic-auth/${credential.username}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, credential.id)
  })
  it('retrieves credential by id only if the credential belongs to the specified consumer', async () => {
    await a.req('POST', '/consumers', { username: 'alice' })
    assert.equal((await a.req('GET', `/consumers/bob/basic-auth/${credential.id}`)).status, 200)
    assert.equal((await a.req('GET', `/consumers/alice/basic-auth/${credential.id}`)).status, 404)
  })
  it('creates a basic-auth credential (PUT)', async () => {
    const res = await a.req('PUT', '/consumers/bob/basic-auth/robert', { password: 'kong' })
    assert.equal(res.status, 200, res.text)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(res.body.username, 'robert')
  })
  it('returns bad request (PUT)', async () => {
    const res = await a.req('PUT', '/consumers/bob/basic-auth/b59d82f6-c839-4a60-b491-c6cdff4cd5d3', {
      username: 123,
    })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { username: 'expected a string', password: 'required field missing' })
  })
  it('updates a credential by id', async () => {
    const res = await a.req('PATCH', `/consumers/bob/basic-auth/${credential.id}`, { password: '4321' })
    assert.equal(res.status, 200)
    assert.notEqual(res.body.password, credential.password)
  })
  it('ignores a nil password when updated by id', async () => {
    const res = await a.req('PATCH', `/consumers/bob/basic-auth/${credential.id}`, {
      username: 'Tyrion Lannister',
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.username, 'Tyrion Lannister')
    assert.equal(res.body.password, credential.password)
  })
  it('updates a credential by username', async () => {
    const res = await a.req('PATCH', `/consumers/bob/basic-auth/${credential.username}`, {
      password: 'upd4321',
    })
    assert.equal(res.status, 200)
    assert.notEqual(res.body.password, credential.password)
  })
  it('ignores a nil password when updated by username', async () => {
    const res = await a.req('PATCH', `/consumers/bob/basic-auth/${credential.username}`, {
      username: 'Tyrion Lannister',
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.username, 'Tyrion Lannister')
    assert.equal(res.body.password, credential.password)
  })
  it('handles invalid input', async () => {
    const res = await a.req('PATCH', `/consumers/bob/basic-auth/${credential.id}`, { username: 123 })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { username: 'expected a string' })
  })
  it('deletes a credential', async () => {
    assert.equal((await a.req('DELETE', `/consumers/bob/basic-auth/${credential.id}`)).status, 204)
  })
  it('returns 404 on missing username', async () => {
    assert.equal((await a.req('DELETE', '/consumers/bob/basic-auth/blah')).status, 404)
  })
  it('returns 404 if not found', async () => {
    const res = await a.req('DELETE', '/consumers/bob/basic-auth/00000000-0000-0000-0000-000000000000')
    assert.equal(res.status, 404)
  })
})

describe('Plugin: basic-auth (API) /basic-auths', () => {
  before(async () => {
    await truncate()
    await insert(consumer.id, 'bob', 'secret')
    const consumer2 = (await a.req('POST', '/consumers', { username: 'bob-the-buidler' })).body
    await insert(consumer2.id, 'bob-the-buidler', 'secret')
  })
  it('retrieves all the basic-auths with trailing slash', async () => {
    const res = await a.req('GET', '/basic-auths/')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 2)
  })
  it('retrieves all the basic-auths without trailing slash', async () => {
    const res = await a.req('GET', '/basic-auths')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 2)
  })
  it('paginates through the basic-auths', async () => {
    const first = await a.req('GET', '/basic-auths?size=1')
    assert.equal(first.status, 200)
    assert.equal((first.body.data as unknown[]).length, 1)
    const second = await a.req(
      'GET',
      `/basic-auths?size=1&offset=${encodeURIComponent(String(first.body.offset))}`,
    )
    assert.equal(second.status, 200)
    assert.equal((second.body.data as unknown[]).length, 1)
    assert.notDeepEqual(second.body.data, first.body.data)
    assert.equal(second.body.offset, undefined)
  })
  it('does not create basic-auth credential when missing consumer', async () => {
    await truncate()
    const res = await a.req('POST', '/basic-auths', { username: 'bob' })
    assert.equal(res.status, 400)
    assert.equal(
      res.body.message,
      '2 schema violations (consumer: required field missing; password: required field missing)',
    )
  })
  it('creates basic-auth credential', async () => {
    const res = await a.req('POST', '/basic-auths', {
      username: 'bob',
      password: 'test',
      consumer: { id: consumer.id },
    })
    assert.equal(res.status, 201)
    assert.equal(res.body.username, 'bob')
  })
})

describe('Plugin: basic-auth (API) /basic-auths/:username_or_id', () => {
  it('does not allow updating consumer as it would invalidate the password', async () => {
    const consumer2 = (await a.req('POST', '/consumers', { username: 'john' })).body
    const res = await a.req('PATCH', '/basic-auths/bob', { consumer: { id: consumer2.id } })
    assert.equal(res.status, 400)
    assert.equal(
      res.body.message,
      "schema violation (all or none of these fields must be set: 'password', 'consumer.id')",
    )
  })
  it('does not create basic-auth credential when missing consumer (PUT)', async () => {
    await truncate()
    const res = await a.req('PUT', '/basic-auths/bob', {})
    assert.equal(res.status, 400)
    assert.equal(
      res.body.message,
      '2 schema violations (consumer: required field missing; password: required field missing)',
    )
  })
  it('creates basic-auth credential (PUT)', async () => {
    const res = await a.req('PUT', '/basic-auths/bob', { password: 'secret', consumer: { id: consumer.id } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.username, 'bob')
  })
})

describe('Plugin: basic-auth (API) /basic-auths/:credential_username_or_id/consumer', () => {
  let credential: Json
  before(async () => {
    await truncate()
    credential = await insert(consumer.id, 'bob', 'secret')
  })
  it('retrieve consumer from a basic-auth id', async () => {
    const res = await a.req('GET', `/basic-auths/${credential.id}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
  it('retrieve consumer from a basic-auth username', async () => {
    const res = await a.req('GET', `/basic-auths/${credential.username}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
  it('returns 404 for a random non-existing basic-auth id', async () => {
    assert.equal((await a.req('GET', `/basic-auths/${crypto.randomUUID()}/consumer`)).status, 404)
  })
  it('returns 404 for a random non-existing basic-auth username', async () => {
    assert.equal((await a.req('GET', '/basic-auths/aWbvNs0Lk2fU7pC4/consumer')).status, 404)
  })
})

// Port of Kong 3.10 spec/03-plugins/16-jwt/02-api_spec.lua: each case carries the name of the
// Kong `it(...)` it transcribes. Kong's `db:truncate("jwt_secrets")` is `truncate()`; its RS256
// fixture key is a freshly generated RSA public key (any valid key is the point of the case).
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, beforeEach, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

type Json = Record<string, unknown>
let a: AdminNode
let consumer: Json
const rsaPublicKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString()

before(async () => {
  a = await adminNode({}, null, [])
  consumer = (await a.req('POST', '/consumers', { username: 'bob' })).body
})
after(() => a.stop())

const truncate = async () => {
  for (;;) {
    const data = (await a.req('GET', '/jwts?size=1000')).body.data as Json[]
    if (data.length === 0) return
    for (const c of data) await a.req('DELETE', `/jwts/${c.id}`)
  }
}
const insert = async (consumerId: unknown) => {
  const res = await a.req('POST', `/consumers/${consumerId}/jwt`, {})
  assert.equal(res.status, 201, res.text)
  return res.body
}

describe('Plugin: jwt (API) /consumers/:consumer/jwt/', () => {
  let jwt1: Json | undefined
  let jwt2: Json | undefined
  before(async () => {
    await a.req('POST', '/consumers', { username: 'alice' })
  })
  it('creates a jwt secret', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', {})
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    jwt1 = res.body
  })
  it('creates a jwt secret with tags', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', { tags: ['tag1', 'tag2'] })
    assert.equal(res.status, 201)
    assert.deepEqual(res.body.tags, ['tag1', 'tag2'])
  })
  it('accepts any given `secret` and `key` parameters', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', { key: 'bob2', secret: 'tooshort' })
    assert.equal(res.status, 201)
    assert.equal(res.body.key, 'bob2')
    assert.equal(res.body.secret, 'tooshort')
    jwt2 = res.body
  })
  it('accepts duplicate `secret` parameters across jwt_secrets', async () => {
    const alice = await a.req('POST', '/consumers/alice/jwt/', { key: 'alice', secret: 'foobarbaz' })
    assert.equal(alice.status, 201)
    assert.deepEqual([alice.body.key, alice.body.secret], ['alice', 'foobarbaz'])
    jwt1 = alice.body
    const bob = await a.req('POST', '/consumers/bob/jwt/', { key: 'bobsyouruncle', secret: 'foobarbaz' })
    assert.equal(bob.status, 201)
    assert.deepEqual([bob.body.key, bob.body.secret], ['bobsyouruncle', 'foobarbaz'])
    jwt2 = bob.body
    assert.equal(jwt1.secret, jwt2.secret)
  })
  it('accepts a valid public key for RS256 when posted urlencoded', async () => {
    const body = new URLSearchParams({
      key: 'bob3',
      algorithm: 'RS256',
      rsa_public_key: rsaPublicKey.replace(/\n/g, '\r\n'),
    }).toString()
    const res = await a.req('POST', '/consumers/bob/jwt/', body, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.key, 'bob3')
  })
  it('accepts a valid public key for RS256 when posted as json', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', {
      key: 'bob4',
      algorithm: 'RS256',
      rsa_public_key: rsaPublicKey,
    })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.key, 'bob4')
  })
  it('fails with missing `rsa_public_key` parameter for RS256 algorithms', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', { key: 'bob5', algorithm: 'RS256' })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, {
      rsa_public_key: 'required field missing',
      '@entity': ["failed conditional validation given value of field 'algorithm'"],
    })
  })
  it('fails with an invalid rsa_public_key for RS256 algorithms', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', {
      key: 'bob5',
      algorithm: 'RS256',
      rsa_public_key: 'test',
    })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, {
      rsa_public_key: 'invalid key',
      '@entity': ["failed conditional validation given value of field 'algorithm'"],
    })
  })
  it('does not fail when `secret` parameter for HS256 algorithms is missing', async () => {
    const res = await a.req('POST', '/consumers/bob/jwt/', { key: 'bob5', algorithm: 'HS256' })
    assert.equal(res.status, 201, res.text)
    assert.equal(typeof res.body.secret, 'string')
    assert.equal((res.body.secret as string).length, 32)
    assert.match(res.body.secret as string, /^[A-Za-z0-9]+$/)
  })
  it('retrieves all', async () => {
    // Kong's lazy_teardown of the POST block deletes the last jwt1 and jwt2 first
    if (jwt1 !== undefined) await a.req('DELETE', `/jwts/${jwt1.id}`)
    if (jwt2 !== undefined) await a.req('DELETE', `/jwts/${jwt2.id}`)
    const res = await a.req('GET', '/consumers/bob/jwt/')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 6)
  })
})

describe('Plugin: jwt (API) /consumers/:consumer/jwt/:id', () => {
  let secret: Json
  beforeEach(async () => {
    await truncate()
    secret = await insert(consumer.id)
  })
  it('retrieves by id', async () => {
    assert.equal((await a.req('GET', `/consumers/bob/jwt/${secret.id}`)).status, 200)
  })
  it('retrieves by key', async () => {
    assert.equal((await a.req('GET', `/consumers/bob/jwt/${secret.key}`)).status, 200)
  })
  it('creates and update', async () => {
    const res = await a.req('PUT', '/consumers/bob/jwt/abcd', {})
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.key, 'abcd')
    assert.equal((res.body.consumer as Json).id, consumer.id)
  })
  it('updates a credential by id', async () => {
    const res = await a.req('PATCH', `/consumers/bob/jwt/${secret.id}`, { key: 'alice', secret: 'newsecret' })
    assert.equal(res.status, 200)
    assert.equal(res.body.secret, 'newsecret')
  })
  it('updates a credential by key', async () => {
    const res = await a.req('PATCH', `/consumers/bob/jwt/${secret.key}`, {
      key: 'alice',
      secret: 'newsecret2',
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.secret, 'newsecret2')
  })
  it('deletes a credential', async () => {
    assert.equal((await a.req('DELETE', `/consumers/bob/jwt/${secret.id}`, {})).status, 204)
  })
  it('returns proper errors', async () => {
    assert.equal((await a.req('DELETE', '/consumers/bob/jwt/blah', {})).status, 404)
    assert.equal(
      (await a.req('DELETE', '/consumers/bob/jwt/00000000-0000-0000-0000-000000000000', {})).status,
      404,
    )
  })
})

describe('Plugin: jwt (API) /jwts', () => {
  let consumer2: Json
  before(async () => {
    consumer2 = (await a.req('POST', '/consumers', { username: 'bob-the-buidler' })).body
  })
  const two = async () => {
    await truncate()
    await insert(consumer.id)
    await insert(consumer2.id)
  }
  it('retrieves all the jwts with trailing slash', async () => {
    await two()
    const res = await a.req('GET', '/jwts/')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 2)
  })
  it('retrieves all the jwts without trailing slash', async () => {
    await two()
    const res = await a.req('GET', '/jwts')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 2)
  })
  it('paginates through the jwts', async () => {
    await two()
    const first = await a.req('GET', '/jwts?size=1')
    assert.equal((first.body.data as unknown[]).length, 1)
    const second = await a.req('GET', `/jwts?size=1&offset=${encodeURIComponent(String(first.body.offset))}`)
    assert.equal(second.status, 200)
    assert.equal((second.body.data as unknown[]).length, 1)
    assert.notDeepEqual(second.body.data, first.body.data)
    assert.equal(second.body.offset, undefined)
  })
  it('does not create jwt credential when missing consumer', async () => {
    await truncate()
    const res = await a.req('POST', '/jwts', { key: 'key' })
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'schema violation (consumer: required field missing)')
  })
  it('creates jwt credential', async () => {
    const res = await a.req('POST', '/jwts', { key: 'key', consumer: { id: consumer.id } })
    assert.equal(res.status, 201)
    assert.equal(res.body.key, 'key')
  })
  it('does not create jwt credential when missing consumer (PUT)', async () => {
    await truncate()
    const res = await a.req('PUT', '/jwts/key', {})
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'schema violation (consumer: required field missing)')
  })
  it('creates jwt credential (PUT)', async () => {
    const res = await a.req('PUT', '/jwts/key', { consumer: { id: consumer.id } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.key, 'key')
  })
})

describe('Plugin: jwt (API) /jwts/:jwt_key_or_id/consumer', () => {
  let credential: Json
  beforeEach(async () => {
    await truncate()
    credential = await insert(consumer.id)
  })
  it('retrieve consumer from a JWT id', async () => {
    const res = await a.req('GET', `/jwts/${credential.id}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
  it('retrieve consumer from a JWT key', async () => {
    const res = await a.req('GET', `/jwts/${credential.key}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
  it('returns 404 for a random non-existing JWT id', async () => {
    assert.equal((await a.req('GET', `/jwts/${crypto.randomUUID()}/consumer`)).status, 404)
  })
  it('returns 404 for a random non-existing JWT key', async () => {
    assert.equal((await a.req('GET', '/jwts/aWbvNs0Lk2fU7pC4/consumer')).status, 404)
  })
})

// Port of Kong 3.10 spec/03-plugins/18-acl/01-api_spec.lua: each case carries the name of the
// Kong `it(...)` it transcribes. Kong's `db:truncate("acls")` is `truncate()` (every ACL
// deleted through the Admin API).
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
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
    const data = (await a.req('GET', '/acls?size=1000')).body.data as Json[]
    if (data.length === 0) return
    for (const c of data) await a.req('DELETE', `/acls/${c.id}`)
  }
}
const insert = async (consumerId: unknown, group: string) => {
  const res = await a.req('POST', `/consumers/${consumerId}/acls`, { group })
  assert.equal(res.status, 201, res.text)
  return res.body
}

describe('Plugin: acl (API) /consumers/:consumer/acls/', () => {
  beforeEach(truncate)
  it('creates an ACL association', async () => {
    const res = await a.req('POST', '/consumers/bob/acls', { group: 'admin' })
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(res.body.group, 'admin')
  })
  it('creates an ACL association with tags', async () => {
    const res = await a.req('POST', '/consumers/bob/acls/', { group: 'yoloers', tags: ['tag1', 'tag2'] })
    assert.equal(res.status, 201)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.deepEqual(res.body.tags, ['tag1', 'tag2'])
  })
  it('returns bad request', async () => {
    const res = await a.req('POST', '/consumers/bob/acls', {})
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { group: 'required field missing' })
  })
  it('retrieves the first page', async () => {
    for (let i = 1; i <= 3; i++) await insert(consumer.id, `group-${i}`)
    const res = await a.req('GET', '/consumers/bob/acls')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 3)
  })
})

describe('Plugin: acl (API) /consumers/:consumer/acls/:id', () => {
  let acl: Json
  let acl2: Json
  beforeEach(async () => {
    await truncate()
    acl = await insert(consumer.id, 'hello')
    acl2 = await insert(consumer.id, 'hello2')
  })
  it('retrieves by id', async () => {
    const res = await a.req('GET', `/consumers/bob/acls/${acl.id}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, acl.id)
  })
  it('retrieves by group', async () => {
    const res = await a.req('GET', `/consumers/bob/acls/${acl.group}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.id, acl.id)
  })
  it('retrieves ACL by id only if the ACL belongs to the specified consumer', async () => {
    await a.req('POST', '/consumers', { username: 'alice' })
    assert.equal((await a.req('GET', `/consumers/bob/acls/${acl.id}`)).status, 200)
    assert.equal((await a.req('GET', `/consumers/alice/acls/${acl.id}`)).status, 404)
  })
  it('retrieves ACL by group only if the ACL belongs to the specified consumer', async () => {
    assert.equal((await a.req('GET', `/consumers/bob/acls/${acl.group}`)).status, 200)
    assert.equal((await a.req('GET', `/consumers/alice/acls/${acl.group}`)).status, 404)
  })
  for (const how of ['POST', 'PUT'])
    it(`retrieves right ACL by group when multiple consumers share the same group name created with ${how}`, async () => {
      let ag: Json
      let jg: Json
      if (how === 'POST') {
        assert.equal((await a.req('POST', '/consumers', { username: 'anna' })).status, 201)
        assert.equal((await a.req('POST', '/consumers', { username: 'jack' })).status, 201)
        const anna = await a.req('POST', '/consumers/anna/acls', { group: 'foo' })
        assert.equal(anna.status, 201)
        const jack = await a.req('POST', '/consumers/jack/acls', { group: 'foo' })
        assert.equal(jack.status, 201)
        ag = anna.body
        jg = jack.body
      } else {
        assert.equal((await a.req('PUT', '/consumers/anna')).status, 200)
        assert.equal((await a.req('PUT', '/consumers/jack')).status, 200)
        const anna = await a.req('PUT', '/consumers/anna/acls/foo')
        assert.equal(anna.status, 200, anna.text)
        const jack = await a.req('PUT', '/consumers/jack/acls/foo')
        assert.equal(jack.status, 200, jack.text)
        ag = anna.body
        jg = jack.body
      }
      const ag2 = await a.req('GET', '/consumers/anna/acls/foo')
      assert.equal(ag2.status, 200)
      const jg2 = await a.req('GET', '/consumers/jack/acls/foo')
      assert.equal(jg2.status, 200)
      assert.deepEqual(ag2.body, ag)
      assert.deepEqual(jg2.body, jg)
      assert.notDeepEqual(jg, ag)
      assert.notDeepEqual(jg2.body, ag2.body)
      assert.equal((await a.req('DELETE', '/consumers/anna')).status, 204)
      assert.equal((await a.req('DELETE', '/consumers/jack')).status, 204)
    })
  it("upserts an ACL's groupname", async () => {
    const res = await a.req('PUT', '/consumers/bob/acls/pro', {})
    assert.equal(res.status, 200, res.text)
    assert.equal((res.body.consumer as Json).id, consumer.id)
    assert.equal(res.body.group, 'pro')
  })
  it('returns bad request (PUT)', async () => {
    const res = await a.req('PUT', '/consumers/bob/acls/f7852533-9160-4f5a-ae12-1ab99219ea95', { group: 123 })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { group: 'expected a string' })
  })
  it('updates an ACL group by id', async () => {
    const res = await a.req('PATCH', `/consumers/bob/acls/${acl.id}`, { group: 'updatedGroup' })
    assert.equal(res.status, 200)
    assert.notEqual(res.body.group, acl.group)
  })
  it('updates an ACL group by group', async () => {
    const res = await a.req('PATCH', `/consumers/bob/acls/${acl.group}`, { group: 'updatedGroup2' })
    assert.equal(res.status, 200)
    assert.notEqual(res.body.group, acl.group)
  })
  it('handles invalid input', async () => {
    const res = await a.req('PATCH', `/consumers/bob/acls/${acl.id}`, { group: 123 })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { group: 'expected a string' })
  })
  it('deletes an ACL group by id', async () => {
    assert.equal((await a.req('DELETE', `/consumers/bob/acls/${acl.id}`)).status, 204)
  })
  it('deletes an ACL group by group', async () => {
    assert.equal((await a.req('DELETE', `/consumers/bob/acls/${acl2.group}`)).status, 204)
  })
  it('returns 404 on missing group', async () => {
    assert.equal((await a.req('DELETE', '/consumers/bob/acls/blah')).status, 404)
  })
  it('returns 404 if not found', async () => {
    assert.equal(
      (await a.req('DELETE', '/consumers/bob/acls/00000000-0000-0000-0000-000000000000')).status,
      404,
    )
  })
})

describe('Plugin: acl (API) /acls', () => {
  before(async () => {
    await truncate()
    for (let i = 1; i <= 3; i++) await insert(consumer.id, `group${i}`)
    const consumer2 = (await a.req('POST', '/consumers', { username: 'bob-the-buidler' })).body
    for (let i = 1; i <= 3; i++) await insert(consumer2.id, `group${i}`)
  })
  it('retrieves all the acls with trailing slash', async () => {
    const res = await a.req('GET', '/acls/')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 6)
  })
  it('retrieves all the acls without trailing slash', async () => {
    const res = await a.req('GET', '/acls')
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 6)
  })
  it('paginates through the acls', async () => {
    const first = await a.req('GET', '/acls?size=3')
    assert.equal((first.body.data as unknown[]).length, 3)
    const second = await a.req('GET', `/acls?size=3&offset=${encodeURIComponent(String(first.body.offset))}`)
    assert.equal(second.status, 200)
    assert.equal((second.body.data as unknown[]).length, 3)
    assert.notDeepEqual(second.body.data, first.body.data)
    assert.equal(second.body.offset, undefined)
  })
  it('does not create acl when missing consumer', async () => {
    await truncate()
    const res = await a.req('POST', '/acls', { group: 'test-group' })
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'schema violation (consumer: required field missing)')
  })
  it('creates acl', async () => {
    const res = await a.req('POST', '/acls', { group: 'test-group', consumer: { id: consumer.id } })
    assert.equal(res.status, 201)
    assert.equal(res.body.group, 'test-group')
  })
})

describe('Plugin: acl (API) /acls/:group_or_id', () => {
  before(truncate)
  it('does not create acl when missing consumer (PUT)', async () => {
    const res = await a.req('PUT', `/acls/${crypto.randomUUID()}`, { group: 'test-group' })
    assert.equal(res.status, 400)
    assert.equal(res.body.message, 'schema violation (consumer: required field missing)')
  })
  it('creates acl (PUT)', async () => {
    const res = await a.req('PUT', `/acls/${crypto.randomUUID()}`, {
      group: 'test-group',
      consumer: { id: consumer.id },
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.group, 'test-group')
  })
  it("retrieves a Consumer from an acl's id", async () => {
    await truncate()
    const credential = await insert(consumer.id, 'foo-group')
    const res = await a.req('GET', `/acls/${credential.id}/consumer`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, consumer)
  })
})

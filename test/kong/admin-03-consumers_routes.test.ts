// Port of Kong 3.10 spec/02-integration/04-admin_api/03-consumers_routes_spec.lua: each case
// carries the name of the Kong `it(...)` it transcribes (`it_content_types` cases run once per
// content type, as in Kong). Skips name the section of docs/kong-compatibility.md.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { raw } from '../fixtures/helpers.js'
import { encodeBody } from '../fixtures/kong-echo.js'

let a: AdminNode
let n = 0
const gensym = () => `abc def ${++n}`
before(async () => {
  a = await adminNode({}, null, [])
})
after(() => a.stop())

const TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json']
function itContentTypes(title: string, fn: (type: string) => () => Promise<void>): void {
  for (const type of TYPES)
    it(`${title} with ${type === TYPES[0] ? 'application/www-form-urlencoded' : type}`, fn(type))
}
const send = (method: string, path: string, type: string, fields: Record<string, string>) => {
  const { body, type: ct } = encodeBody(type, fields)
  return a.req(method, path, body, { headers: { 'content-type': ct } })
}
const insert = async (fields: Record<string, string> = {}) => {
  const res = await a.req('POST', '/consumers', { username: gensym(), custom_id: gensym(), ...fields })
  assert.equal(res.status, 201)
  return res.body as Record<string, string>
}
const ENTITY_CHECK = ["at least one of these fields must be non-empty: 'custom_id', 'username'"]

describe('Admin API: /consumers POST', () => {
  itContentTypes('creates a Consumer', (type) => async () => {
    const username = gensym()
    const res = await send('POST', '/consumers', type, { username })
    assert.equal(res.status, 201)
    assert.equal(res.body.username, username)
    assert.equal(typeof res.body.created_at, 'number')
    assert.equal(typeof res.body.id, 'string')
  })
  itContentTypes('handles invalid input', (type) => async () => {
    const res = await send('POST', '/consumers', type, {})
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
    assert.deepEqual((res.body.fields as Record<string, unknown>)['@entity'], ENTITY_CHECK)
  })
  itContentTypes('returns 409 on conflicting username', (type) => async () => {
    const consumer = await insert()
    const res = await send('POST', '/consumers', type, { username: consumer.username as string })
    assert.equal(res.status, 409)
    assert.equal(res.body.name, 'unique constraint violation')
    assert.equal(res.body.message, `UNIQUE violation detected on '{username="${consumer.username}"}'`)
  })
  itContentTypes('returns 400 on conflicting custom_id', (type) => async () => {
    const consumer = await insert()
    const res = await send('POST', '/consumers', type, {
      username: 'tom',
      custom_id: consumer.custom_id as string,
    })
    assert.equal(res.status, 409)
    assert.equal(res.body.message, `UNIQUE violation detected on '{custom_id="${consumer.custom_id}"}'`)
  })
  it('returns 415 on invalid content-type', async () => {
    const res = await a.req('POST', '/consumers', '{"hello": "world"}', {
      headers: { 'content-type': 'invalid' },
    })
    assert.equal(res.status, 415)
  })
  it('returns 415 on missing content-type with body ', async () => {
    assert.equal((await a.req('POST', '/consumers', 'invalid')).status, 415)
  })
  it('returns 400 on missing body with application/json', async () => {
    const res = await a.req('POST', '/consumers', undefined, {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, { message: 'Cannot parse JSON body' })
  })
  for (const [name, type] of [
    ['returns 400 on missing body with multipart/form-data', 'multipart/form-data'],
    ['returns 400 on missing body with multipart/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['returns 400 on missing body with no content-type header', undefined],
  ] as const) {
    it(name, async () => {
      const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type }
      const res = await a.req('POST', '/consumers', undefined, { headers })
      assert.equal(res.status, 400)
      assert.equal(res.body.name, 'schema violation')
      assert.deepEqual((res.body.fields as Record<string, unknown>)['@entity'], ENTITY_CHECK)
    })
  }
})

describe('Admin API: /consumers GET', () => {
  it('not crashed by empty custom_id #KAG-867', async () => {
    assert.equal((await a.req('GET', '/consumers?custom_id=')).status, 400)
    assert.equal((await a.req('GET', '/consumers?custom_id')).status, 400)
  })
  it('allows filtering by custom_id', async () => {
    const c = await insert()
    const res = await a.req('GET', `/consumers?custom_id=${encodeURIComponent(c.custom_id as string)}`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.data, [c])
  })
  it('allows filtering by uuid-like custom_id', async () => {
    const c = await insert({ custom_id: '3f1b8c2a-5d0e-4c1f-9a7b-1e2d3c4b5a69' })
    const res = await a.req('GET', `/consumers?custom_id=${c.custom_id}`)
    assert.deepEqual(res.body.data, [c])
  })
  it('returns empty json array when consumer does not exist', async () => {
    const res = await a.req('GET', '/consumers?custom_id=does-not-exist')
    assert.equal(res.status, 200)
    assert.match(res.text, /"data":\[\]/)
  })
  it('returns 405 on invalid method', async () => {
    const res = await a.req('DELETE', '/consumers')
    assert.equal(res.status, 405)
    assert.deepEqual(res.body, { message: 'Method not allowed' })
  })
})

describe('Admin API: /consumers/{consumer}', () => {
  it('retrieves by id', async () => {
    const c = await insert()
    assert.deepEqual((await a.req('GET', `/consumers/${c.id}`)).body, c)
  })
  it('retrieves by username', async () => {
    const c = await insert({ username: 'by-username' })
    assert.deepEqual((await a.req('GET', '/consumers/by-username')).body, c)
  })
  it('retrieves by urlencoded username', async () => {
    const c = await insert()
    assert.deepEqual((await a.req('GET', `/consumers/${encodeURIComponent(c.username as string)}`)).body, c)
  })
  it('retrieves by utf-8 name and encoded utf-8 name', async () => {
    const c = await insert({ username: '円' })
    assert.deepEqual((await a.req('GET', `/consumers/${encodeURIComponent('円')}`)).body, c)
  })
  it('retrieves by utf-8 name (raw bytes in the request line)', async () => {
    const out = await raw(
      a.node.admin?.port as number,
      'GET /consumers/円 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    )
    assert.match(out, /^HTTP\/1.1 200/)
  })
  it('returns 404 if not found', async () => {
    assert.equal((await a.req('GET', '/consumers/f6b2b1c6-3a3b-4f1c-9f1a-000000000000')).status, 404)
  })
  itContentTypes('updates by id', (type) => async () => {
    const c = await insert()
    const res = await send('PATCH', `/consumers/${c.id}`, type, { username: `${c.username}-updated` })
    assert.equal(res.status, 200)
    assert.equal(res.body.username, `${c.username}-updated`)
  })
  itContentTypes('updates by username', (type) => async () => {
    const c = await insert()
    const res = await send('PATCH', `/consumers/${encodeURIComponent(c.username as string)}`, type, {
      username: `${c.username}-updated`,
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.id, c.id)
  })
  it('returns 415 on invalid content-type (PATCH)', async () => {
    const c = await insert()
    const res = await a.req('PATCH', `/consumers/${c.id}`, '{"hello": "world"}', {
      headers: { 'content-type': 'invalid' },
    })
    assert.equal(res.status, 415)
  })
  itContentTypes('creates if not exists', (type) => async () => {
    const id = crypto.randomUUID()
    const res = await send('PUT', `/consumers/${id}`, type, { username: gensym() })
    assert.equal(res.status, 200)
    assert.equal(res.body.id, id)
  })
  it('handles malformed JSON body', async () => {
    const c = await insert()
    const res = await a.req('PUT', `/consumers/${c.id}`, '{"hello": "world"', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 400)
    assert.equal(res.text, '{"message":"Cannot parse JSON body"}')
  })
  itContentTypes('handles invalid input (PUT)', (type) => async () => {
    const res = await send('PUT', `/consumers/${crypto.randomUUID()}`, type, {})
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, {
      code: 2,
      name: 'schema violation',
      fields: { '@entity': ENTITY_CHECK },
      message: "schema violation (at least one of these fields must be non-empty: 'custom_id', 'username')",
    })
  })
  it('deletes by id', async () => {
    const c = await insert()
    const res = await a.req('DELETE', `/consumers/${c.id}`)
    assert.equal(res.status, 204)
    assert.equal(res.text, '')
  })
  it('deletes by username', async () => {
    const c = await insert()
    assert.equal(
      (await a.req('DELETE', `/consumers/${encodeURIComponent(c.username as string)}`)).status,
      204,
    )
  })
})

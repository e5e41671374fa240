// Port of Kong 3.10 spec/02-integration/04-admin_api/07-upstreams_routes_spec.lua: each case
// carries the name of the Kong `it(...)` it transcribes (`it_content_types` cases once per
// content type; Kong truncates upstreams between cases, here each case deletes its own).
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { encodeBody } from '../fixtures/kong-echo.js'

let a: AdminNode
before(async () => {
  a = await adminNode({}, null, [])
})
after(() => a.stop())
afterEach(async () => {
  for (const name of ['my.upstream', 'my-upstream']) await a.req('DELETE', `/upstreams/${name}`)
})

const TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json']
function itContentTypes(title: string, fn: (type: string) => () => Promise<void>): void {
  for (const type of TYPES)
    it(`${title} with ${type === TYPES[0] ? 'application/www-form-urlencoded' : type}`, fn(type))
}
// Kong's JSON cases send numbers as numbers; forms send text either way
const NUMERIC = new Set(['slots', 'created_at'])
const send = (method: string, path: string, type: string, fields: Record<string, string>) => {
  const { body: encoded, type: ct } = encodeBody(type, fields)
  const body =
    type === 'application/json'
      ? JSON.stringify(
          Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, NUMERIC.has(k) ? Number(v) : v])),
        )
      : encoded
  return a.req(method, path, body, { headers: { 'content-type': ct } })
}
const created = (res: Awaited<ReturnType<typeof send>>) => {
  assert.equal(res.status, 201, res.text)
  assert.equal(res.body.name, 'my.upstream')
  assert.equal(typeof res.body.created_at, 'number')
  assert.equal(typeof res.body.id, 'string')
  return res.body
}

describe('Admin API: /upstreams POST', () => {
  itContentTypes('creates an upstream with defaults', (type) => async () => {
    const json = created(await send('POST', '/upstreams', type, { name: 'my.upstream' }))
    assert.deepEqual(
      [json.slots, json.hash_on, json.hash_fallback, json.hash_on_header, json.hash_fallback_header],
      [10000, 'none', 'none', null, null],
    )
  })
  itContentTypes('creates an upstream without defaults', (type) => async () => {
    const json = created(
      await send('POST', '/upstreams', type, {
        name: 'my.upstream',
        slots: '10',
        hash_on: 'consumer',
        hash_fallback: 'ip',
        hash_on_header: 'HeaderName',
        hash_fallback_header: 'HeaderFallback',
      }),
    )
    assert.deepEqual(
      [json.slots, json.hash_on, json.hash_fallback, json.hash_on_header, json.hash_fallback_header],
      [10, 'consumer', 'ip', 'HeaderName', 'HeaderFallback'],
    )
  })
  itContentTypes('creates an upstream with hash_on cookie parameters', (type) => async () => {
    const json = created(
      await send('POST', '/upstreams', type, {
        name: 'my.upstream',
        hash_on: 'cookie',
        hash_on_cookie: 'CookieName1',
        hash_on_cookie_path: '/foo',
      }),
    )
    assert.deepEqual(
      [json.hash_on, json.hash_on_cookie, json.hash_on_cookie_path],
      ['cookie', 'CookieName1', '/foo'],
    )
  })
  itContentTypes('creates an upstream with 2 header hashes', (type) => async () => {
    const json = created(
      await send('POST', '/upstreams', type, {
        name: 'my.upstream',
        slots: '10',
        hash_on: 'header',
        hash_fallback: 'header',
        hash_on_header: 'HeaderName1',
        hash_fallback_header: 'HeaderName2',
      }),
    )
    assert.deepEqual([json.hash_on_header, json.hash_fallback_header], ['HeaderName1', 'HeaderName2'])
  })
  itContentTypes('creates an upstream with 65536 slots', (type) => async () => {
    const json = created(await send('POST', '/upstreams', type, { name: 'my.upstream', slots: '65536' }))
    assert.equal(json.slots, 65536)
  })
  itContentTypes('creates an upstream with host header', (type) => async () => {
    const json = created(
      await send('POST', '/upstreams', type, { name: 'my.upstream', host_header: 'localhost' }),
    )
    assert.equal(json.host_header, 'localhost')
  })
  it('handles malformed JSON body', async () => {
    const res = await a.req('POST', '/upstreams', '{"hello": "world"', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 400)
    assert.equal(res.text, '{"message":"Cannot parse JSON body"}')
  })
  itContentTypes('returns 409 on conflict', (type) => async () => {
    assert.equal((await send('POST', '/upstreams', type, { name: 'my.upstream' })).status, 201)
    const res = await send('POST', '/upstreams', type, { name: 'my.upstream' })
    assert.equal(res.status, 409)
    assert.equal(res.body.name, 'unique constraint violation')
    assert.deepEqual(res.body.fields, { name: 'my.upstream' })
  })
})

describe('Admin API: /upstreams PUT, GET, DELETE', () => {
  itContentTypes('creates if not exists', (type) => async () => {
    const res = await send('PUT', '/upstreams/my-upstream', type, { created_at: '1461276890000' })
    assert.equal(res.status, 200)
    assert.equal(res.body.name, 'my-upstream')
    assert.equal(typeof res.body.created_at, 'number')
    assert.equal(typeof res.body.slots, 'number')
  })
  it('ignores filters', async () => {
    assert.equal((await a.req('GET', '/upstreams?foo=bar')).status, 200)
  })
  it('data property is an empty array', async () => {
    const res = await a.req('GET', '/upstreams')
    assert.match(res.text, /"data":\[\]/)
  })
  it('by id', async () => {
    const up = await a.req('POST', '/upstreams', { name: 'my-upstream' })
    assert.equal((await a.req('DELETE', `/upstreams/${up.body.id}`)).status, 204)
    assert.equal((await a.req('GET', `/upstreams/${up.body.id}`)).status, 404)
  })
  it('by name', async () => {
    await a.req('POST', '/upstreams', { name: 'my-upstream' })
    assert.equal((await a.req('DELETE', '/upstreams/my-upstream')).status, 204)
    assert.equal((await a.req('GET', '/upstreams/my-upstream')).status, 404)
  })
  it('can delete an upstream with targets', async () => {
    assert.equal((await a.req('POST', '/upstreams', { name: 'my-upstream', slots: 100 })).status, 201)
    assert.equal(
      (await a.req('POST', '/upstreams/my-upstream/targets', { target: '127.0.0.1:8000' })).status,
      201,
    )
    assert.equal((await a.req('DELETE', '/upstreams/my-upstream')).status, 204)
  })
  it('returns 405 on invalid method', async () => {
    const res = await a.req('DELETE', '/upstreams', undefined, {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 405)
    assert.deepEqual(res.body, { message: 'Method not allowed' })
  })
})

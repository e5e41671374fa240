// Port of Kong 3.10 spec/02-integration/04-admin_api/10-services_routes_spec.lua: each case
// carries the name of the Kong `it(...)` it transcribes (`it_content_types` cases once per
// content type). Skips name the section of docs/kong-compatibility.md.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { raw } from '../fixtures/helpers.js'
import { encodeBody } from '../fixtures/kong-echo.js'

let a: AdminNode
let n = 0
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
const insert = async (named = false) => {
  const res = await a.req('POST', '/services', {
    host: 'example.test',
    ...(named ? { name: `service-${++n}` } : {}),
  })
  assert.equal(res.status, 201)
  return res.body as Record<string, unknown>
}

describe('Admin API: /services POST', () => {
  itContentTypes('creates a service', (type) => async () => {
    const res = await send('POST', '/services', type, { protocol: 'http', host: 'service.test' })
    assert.equal(res.status, 201)
    const json = res.body
    assert.equal(typeof json.id, 'string')
    assert.equal(typeof json.created_at, 'number')
    assert.equal(typeof json.updated_at, 'number')
    assert.equal(json.name, null)
    assert.deepEqual(
      [json.protocol, json.host, json.port, json.connect_timeout, json.write_timeout, json.read_timeout],
      ['http', 'service.test', 80, 60000, 60000, 60000],
    )
  })
  itContentTypes('creates a service with url', (type) => async () => {
    const res = await send('POST', '/services', type, { url: 'http://service.test/' })
    assert.equal(res.status, 201)
    assert.deepEqual(
      [res.body.protocol, res.body.host, res.body.path, res.body.port],
      ['http', 'service.test', '/', 80],
    )
  })
  itContentTypes("'port' defaults to 443 when 'url' scheme is https", (type) => async () => {
    const res = await send('POST', '/services', type, { url: 'https://service.test/' })
    assert.equal(res.status, 201)
    assert.deepEqual([res.body.protocol, res.body.port], ['https', 443])
  })
  itContentTypes('client error with with empty url', (type) => async () => {
    assert.equal((await send('POST', '/services', type, { url: '' })).status, 400)
  })
  itContentTypes('client error with invalid url', (type) => async () => {
    assert.equal((await send('POST', '/services', type, { url: ' ' })).status, 400)
  })
  it('handles malformed JSON body', async () => {
    const res = await a.req('POST', '/services', '{"hello": "world"', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 400)
    assert.equal(res.text, '{"message":"Cannot parse JSON body"}')
  })
  itContentTypes('handles invalid input', (type) => async () => {
    const res = await send('POST', '/services', type, {})
    assert.equal(res.status, 400)
    assert.deepEqual(res.body.fields, { host: 'required field missing' })
    const bad = await send('POST', '/services', type, { host: 'example.test', protocol: 'foo' })
    assert.equal(bad.status, 400)
    // Kong lists its stream protocols too; Portico proxies http(s) and ws(s) only
    assert.match(
      String((bad.body.fields as Record<string, string>).protocol),
      /^expected one of: .*http, https/,
    )
  })
})

describe('Admin API: /services GET', () => {
  it('propagate in next a page size', async () => {
    for (let i = 0; i < 4; i++) await insert(true)
    const res = await a.req('GET', '/services?size=3')
    assert.equal(res.status, 200)
    assert.equal(res.body.next, `/services?offset=${encodeURIComponent(String(res.body.offset))}&size=3`)
  })
  it('handles invalid filters', async () => {
    assert.equal((await a.req('GET', '/services?foo=bar')).status, 200)
  })
  it('ignores an invalid body', async () => {
    const res = await a.req('GET', '/services', 'this fails if decoded as json', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 200)
  })
})

describe('Admin API: /services/{service}', () => {
  it('retrieves by id', async () => {
    const service = await insert()
    assert.deepEqual((await a.req('GET', `/services/${service.id}`)).body, service)
  })
  it('retrieves by name', async () => {
    const service = await insert(true)
    assert.deepEqual((await a.req('GET', `/services/${service.name}`)).body, service)
  })
  it('retrieves by utf-8 name and percent-escaped utf-8 name', async () => {
    const res = await a.req('POST', '/services', { name: '円', host: 'example.test' })
    // Kong's client sends the name as raw UTF-8 bytes in the request line
    const out = await raw(
      a.node.admin?.port as number,
      'GET /services/円 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    )
    assert.match(out, /^HTTP\/1.1 200/)
    const body = Buffer.from(out.slice(out.indexOf('\r\n\r\n') + 4), 'latin1').toString('utf8')
    assert.deepEqual(JSON.parse(body), res.body)
    assert.deepEqual((await a.req('GET', '/services/%E5%86%86')).body, res.body)
  })
  it('returns 404 if not found', async () => {
    assert.equal((await a.req('GET', `/services/${crypto.randomUUID()}`)).status, 404)
  })
  it('returns 404 if not found by name', async () => {
    assert.equal((await a.req('GET', '/services/not-found')).status, 404)
  })
  it('ignores an invalid body', async () => {
    const service = await insert()
    const res = await a.req('GET', `/services/${service.id}`, 'this fails if decoded as json', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 200)
  })
  for (const type of ['application/x-www-form-urlencoded', 'application/json']) {
    it(`updates if found with ${type}`, async () => {
      const service = await insert(true)
      const body =
        type === 'application/json'
          ? JSON.stringify({ name: null, protocol: 'https' })
          : 'name=&protocol=https'
      const res = await a.req('PATCH', `/services/${service.id}`, body, { headers: { 'content-type': type } })
      assert.equal(res.status, 200)
      assert.deepEqual([res.body.name, res.body.protocol, res.body.id], [null, 'https', service.id])
      assert.deepEqual((await a.req('GET', `/services/${service.id}`)).body, res.body)
    })
  }
  itContentTypes('updates if found by name', (type) => async () => {
    const service = await insert(true)
    const res = await send('PATCH', `/services/${service.name}`, type, { protocol: 'https' })
    assert.equal(res.status, 200)
    assert.deepEqual([res.body.protocol, res.body.id, res.body.name], ['https', service.id, service.name])
  })
  it('updates with url', async () => {
    const service = await insert()
    let res = await a.req('PATCH', `/services/${service.id}`, { url: 'http://example.test:443' })
    assert.deepEqual(
      [res.body.protocol, res.body.host, res.body.port, res.body.path],
      ['http', 'example.test', 443, null],
    )
    res = await a.req('PATCH', `/services/${service.id}`, { url: 'https://example2.test:80/' })
    assert.deepEqual(
      [res.body.protocol, res.body.host, res.body.port, res.body.path],
      ['https', 'example2.test', 80, '/'],
    )
  })
  it('deletes a service', async () => {
    const service = await insert()
    const res = await a.req('DELETE', `/services/${service.id}`)
    assert.equal(res.status, 204)
    assert.equal(res.text, '')
  })
  it('deletes a service by name', async () => {
    const service = await insert(true)
    assert.equal((await a.req('DELETE', `/services/${service.name}`)).status, 204)
  })
  it('returns HTTP 204 even if not found', async () => {
    assert.equal((await a.req('DELETE', `/services/${crypto.randomUUID()}`)).status, 204)
  })
  it('returns HTTP 204 even if not found by name', async () => {
    assert.equal((await a.req('DELETE', '/services/not-found')).status, 204)
  })
  itContentTypes('lists all routes belonging to service', (type) => async () => {
    const service = await insert()
    const route = await a.req('POST', '/routes', { hosts: ['service.test'], service: { id: service.id } })
    await a.req('POST', '/routes', { hosts: ['service.test'] })
    const res = await a.req('GET', `/services/${service.id}/routes`, undefined, {
      headers: { 'content-type': type },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { data: [route.body], next: null })
  })
  for (const type of ['application/x-www-form-urlencoded', 'application/json']) {
    it(`creates a plugin config for a Service with ${type}`, async () => {
      const service = await insert()
      const body =
        type === 'application/json'
          ? JSON.stringify({ name: 'key-auth', config: { key_names: ['apikey', 'key'] } })
          : 'name=key-auth&config.key_names[1]=apikey&config.key_names[2]=key'
      const res = await a.req('POST', `/services/${service.id}/plugins`, body, {
        headers: { 'content-type': type },
      })
      assert.equal(res.status, 201)
      assert.equal(res.body.name, 'key-auth')
      assert.deepEqual((res.body.config as Record<string, unknown>).key_names, ['apikey', 'key'])
    })
  }
  itContentTypes('references a Service by name', (type) => async () => {
    const service = await insert(true)
    const res = await send('POST', `/services/${service.name}/plugins`, type, { name: 'key-auth' })
    assert.equal(res.status, 201)
    assert.deepEqual(res.body.service, { id: service.id })
  })
  itContentTypes('returns 409 on conflict (same plugin name)', (type) => async () => {
    const service = await insert()
    assert.equal(
      (await send('POST', `/services/${service.id}/plugins`, type, { name: 'key-auth' })).status,
      201,
    )
    const res = await send('POST', `/services/${service.id}/plugins`, type, { name: 'key-auth' })
    assert.equal(res.status, 409)
    assert.equal(res.body.name, 'unique constraint violation')
  })
  itContentTypes('handles invalid url ', (type) => async () => {
    const res = await send('POST', '/services', type, { url: 'invalid url' })
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
  })
})

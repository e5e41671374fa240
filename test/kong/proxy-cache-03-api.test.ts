// Port of Kong 3.10 spec/03-plugins/31-proxy-cache/03-api_spec.lua: each case carries the name
// of the Kong `it(...)` it transcribes. Kong's cases share state in order (the cache key of the
// first DELETE case is read by the GET cases); so do these.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import type { Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

type Json = Record<string, unknown>
let echo: Upstream
let a: AdminNode
let plugin1: Json
let route1: Json
let cacheKey = ''
const memory = {
  strategy: 'memory',
  content_type: ['text/plain', 'application/json'],
  memory: { dictionary_name: 'kong' },
}

before(async () => {
  echo = await kongEcho()
  a = await adminNode({}, null, [])
  const service = (await a.req('POST', '/services', { url: echo.url })).body
  route1 = (await a.req('POST', '/routes', { hosts: ['route-1.test'], service: { id: service.id } })).body
  plugin1 = (
    await a.req('POST', '/plugins', { name: 'proxy-cache', route: { id: route1.id }, config: memory })
  ).body
  // another plugin does not disturb the global /proxy-cache handler (Kong's regression case)
  assert.equal((await a.req('POST', '/plugins', { name: 'request-transformer' })).status, 201)
  const route2 = (await a.req('POST', '/routes', { hosts: ['route-2.test'], service: { id: service.id } }))
    .body
  assert.equal(
    (await a.req('POST', '/plugins', { name: 'proxy-cache', route: { id: route2.id }, config: memory }))
      .status,
    201,
  )
})
after(async () => {
  await a.stop()
  await echo.close()
})

const proxy = (host: string) => send(`${a.proxy}/get`, { headers: { host, 'kong-debug': '1' } })
const base = {
  name: 'proxy-cache',
  config: { strategy: 'memory', memory: { dictionary_name: 'kong' }, cache_ttl: 600 },
}
const post = (config: Json) => a.req('POST', '/plugins', { ...base, config: { ...base.config, ...config } })
const fields = (res: { body: Json }) => (res.body.fields as { config: Json }).config

describe('Plugin: proxy-cache (schema)', () => {
  let body: Json
  it('accepts an array of numbers as strings', async () => {
    const res = await post({
      response_code: [123, 200],
      request_method: ['GET'],
      content_type: ['text/json'],
    })
    assert.equal(res.status, 201, res.text)
    body = res.body
  })
  it('casts an array of response_code values to number types', () => {
    for (const v of (body.config as { response_code: unknown[] }).response_code)
      assert.equal(typeof v, 'number')
  })
  it('errors if response_code is an empty array', async () => {
    const res = await post({ response_code: [], request_method: ['GET'], content_type: ['text/json'] })
    assert.equal(res.status, 400)
    assert.equal(fields(res).response_code, 'length must be at least 1')
  })
  it('errors if response_code is a string', async () => {
    const res = await post({ response_code: [], request_method: 'GET', content_type: 'text/json' })
    assert.equal(res.status, 400)
    assert.equal(fields(res).response_code, 'length must be at least 1')
  })
  it('errors if response_code has non-numeric values', async () => {
    const res = await post({
      response_code: [true, 'alo', 123],
      request_method: 'GET',
      content_type: 'text/json',
    })
    assert.equal(res.status, 400)
    assert.deepEqual(fields(res).response_code, ['expected an integer', 'expected an integer'])
  })
  it('errors if response_code has float value', async () => {
    const res = await post({ response_code: [90], request_method: 'GET', content_type: 'text/json' })
    assert.equal(res.status, 400)
    assert.deepEqual(fields(res).response_code, ['value should be between 100 and 900'])
  })
})

describe('Plugin: proxy-cache (API)', () => {
  it('delete a cache entry', async () => {
    let res = await proxy('route-1.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-cache-status'], 'Miss')
    const key1 = String(res.headers['x-cache-key'])
    assert.match(key1, /^[a-z0-9]{64}$/)
    cacheKey = key1
    res = await proxy('route-1.test')
    assert.equal(res.headers['x-cache-status'], 'Hit')
    assert.equal(res.headers['x-cache-key'], key1)
    assert.equal((await a.req('DELETE', `/proxy-cache/${plugin1.id}/caches/${cacheKey}`)).status, 204)
    res = await proxy('route-1.test')
    assert.equal(res.headers['x-cache-status'], 'Miss')
    // directly, looking through every proxy-cache instance
    assert.equal((await a.req('DELETE', `/proxy-cache/${cacheKey}`)).status, 204)
    res = await proxy('route-1.test')
    assert.equal(res.headers['x-cache-status'], 'Miss')
  })
  it('purge all the cache entries', async () => {
    let res = await proxy('route-1.test')
    assert.equal(res.headers['x-cache-status'], 'Hit')
    res = await proxy('route-2.test')
    assert.equal(res.headers['x-cache-status'], 'Miss')
    const key1 = String(res.headers['x-cache-key'])
    assert.match(key1, /^[a-z0-9]{64}$/)
    res = await proxy('route-2.test')
    assert.equal(res.headers['x-cache-status'], 'Hit')
    assert.equal(res.headers['x-cache-key'], key1)
    assert.equal((await a.req('DELETE', '/proxy-cache')).status, 204)
    assert.equal((await proxy('route-1.test')).headers['x-cache-status'], 'Miss')
    assert.equal((await proxy('route-2.test')).headers['x-cache-status'], 'Miss')
  })
  it('delete a non-existing cache key', async () => {
    assert.equal((await a.req('DELETE', '/proxy-cache')).status, 204)
    assert.equal((await a.req('DELETE', `/proxy-cache/${plugin1.id}/caches/123`)).status, 404)
  })
  it("delete a non-existing plugins's cache key", async () => {
    assert.equal((await a.req('DELETE', '/proxy-cache')).status, 204)
    assert.equal((await a.req('DELETE', `/proxy-cache/${route1.id}/caches/123`)).status, 404)
  })
  it('get a non-existing cache', async () => {
    assert.equal((await a.req('DELETE', '/proxy-cache')).status, 204)
    assert.equal((await a.req('GET', `/proxy-cache/${plugin1.id}/caches/${cacheKey}`)).status, 404)
    assert.equal((await a.req('GET', `/proxy-cache/${cacheKey}`)).status, 404)
  })
  it('get a existing cache', async () => {
    assert.equal((await proxy('route-1.test')).status, 200)
    let res = await a.req('GET', `/proxy-cache/${plugin1.id}/caches/${cacheKey}`)
    assert.equal(res.status, 200)
    assert.equal((res.body.headers as Json)['X-Cache-Key'], cacheKey)
    res = await a.req('GET', `/proxy-cache/${cacheKey}`)
    assert.equal(res.status, 200)
    assert.equal((res.body.headers as Json)['X-Cache-Key'], cacheKey)
  })
})

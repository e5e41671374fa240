// Port of Kong 3.10 spec/03-plugins/11-correlation-id/01-access_spec.lua (HTTP cases): each
// case carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const UUID_COUNTER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}#\d+$/
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (host: string, headers: Record<string, string> = {}) =>
  send(`${gw.url}/request`, { headers: { host, ...headers } })
const upstreamId = (res: Awaited<ReturnType<typeof get>>, name = 'kong-request-id') =>
  (res.body.headers as Record<string, string>)[name]

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services:
  - { name: s, url: "${echo.url}" }
  - { name: dead, url: "http://127.0.0.1:9" }
routes:
  - { name: r1, service: s, hosts: [correlation1.test], plugins: [{ name: correlation-id }] }
  - { name: r2, service: s, hosts: [correlation2.test], plugins: [{ name: correlation-id, config: { header_name: Foo-Bar-Id } }] }
  - { name: r3, service: s, hosts: [correlation3.test], plugins: [{ name: correlation-id, config: { generator: uuid, echo_downstream: true } }] }
  - { name: r4, service: s, hosts: [correlation-tracker.test], plugins: [{ name: correlation-id, config: { generator: tracker } }] }
  - { name: r6, service: dead, hosts: [correlation-timeout.test], plugins: [{ name: correlation-id, config: { generator: uuid, echo_downstream: true } }] }
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

describe('Plugin: correlation-id (access) — uuid-worker generator', () => {
  it('increments the counter part', async () => {
    const id1 = upstreamId(await get('correlation1.test'))
    const id2 = upstreamId(await get('correlation1.test'))
    assert.match(id1 ?? '', UUID_COUNTER)
    assert.match(id2 ?? '', UUID_COUNTER)
    assert.notEqual(id1, id2)
    const counter = (id: string | undefined) => Number(id?.split('#')[1])
    assert.equal(counter(id2), counter(id1) + 1)
  })
})

describe('Plugin: correlation-id (access) — uuid generator', () => {
  it('generates a unique UUID for every request', async () => {
    const id1 = upstreamId(await get('correlation3.test'))
    const id2 = upstreamId(await get('correlation3.test'))
    assert.match(id1 ?? '', UUID)
    assert.match(id2 ?? '', UUID)
    assert.notEqual(id1, id2)
  })
})

describe('Plugin: correlation-id (access) — tracker generator', () => {
  it('generates a unique tracker id for every request', async () => {
    const id1 = upstreamId(await get('correlation-tracker.test'))
    const id2 = upstreamId(await get('correlation-tracker.test'))
    assert.ok(id1 !== undefined && id1 !== '')
    assert.notEqual(id1, id2)
  })
})

describe('Plugin: correlation-id (access) — config options', () => {
  it('echo_downstream sends uuid back to client', async () => {
    const res = await get('correlation3.test')
    assert.equal(res.status, 200)
    assert.match(upstreamId(res) ?? '', UUID)
    assert.equal(res.headers['kong-request-id'], upstreamId(res))
  })
  it('echo_downstream sends uuid back to client even when upstream timeouts', async () => {
    const res = await get('correlation-timeout.test')
    assert.equal(res.status, 502)
    assert.match(String(res.headers['kong-request-id']), UUID)
  })
  it('echo_downstream does not send uuid back to client if not asked', async () => {
    const res = await get('correlation2.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['kong-request-id'], undefined)
  })
  it('uses a custom header name', async () => {
    assert.match(upstreamId(await get('correlation2.test'), 'foo-bar-id') ?? '', UUID)
  })
})

describe('Plugin: correlation-id (access)', () => {
  it('preserves an already existing header', async () => {
    assert.equal(upstreamId(await get('correlation2.test', { 'kong-request-id': 'foobar' })), 'foobar')
  })
  it('does not preserve an already existing empty header', async () => {
    assert.notEqual(upstreamId(await get('correlation3.test', { 'kong-request-id': '' })), '')
  })
  it('does not preserve an already existing header with space only', async () => {
    const id = upstreamId(await get('correlation3.test', { 'kong-request-id': ' ' }))
    assert.match(id ?? '', UUID)
  })
})

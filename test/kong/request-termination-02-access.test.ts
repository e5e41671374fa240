// Port of Kong 3.10 spec/03-plugins/14-request-termination/02-access_spec.lua (HTTP cases):
// each case carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (n: number, path = '/status/200', headers: Record<string, string> = {}, body?: string) =>
  send(`${gw.url}${path}`, { headers: { host: `api${n}.request-termination.test`, ...headers }, body })
const rt = (n: number, config: string, extra = 'service: s, ') =>
  `  - { name: r${n}, ${extra}hosts: [api${n}.request-termination.test], plugins: [{ name: request-termination, config: ${config} }] }`

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
routes:
${rt(1, '{}')}
${rt(2, '{ status_code: 404 }')}
${rt(3, '{ status_code: 406, message: Invalid }')}
${rt(4, '{ body: "<html><body><h1>Service is down for maintenance</h1></body></html>" }')}
${rt(5, '{ status_code: 451, content_type: text/html, body: "<html><body><h1>Service is down due to content infringement</h1></body></html>" }')}
${rt(6, `{ status_code: 503, body: '{"code": 1, "message": "Service unavailable"}' }`)}
${rt(7, '{}', '')}
${rt(8, '{ status_code: 204 }')}
${rt(9, '{ echo: true, status_code: 404 }', 'service: s, strip_path: false, paths: ["~/(?<parameter>[^#?/]+)/200"], ')}
${rt(10, '{ echo: true, trigger: gimme-an-echo, status_code: 404 }')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

describe('Plugin: request-termination (access) — status code and message', () => {
  it('default status code and message', async () => {
    const res = await get(1)
    assert.equal(res.status, 503)
    assert.deepEqual(res.body, { message: 'Service unavailable' })
  })
  it('default status code and message with serviceless route', async () => {
    const res = await get(7)
    assert.equal(res.status, 503)
    assert.deepEqual(res.body, { message: 'Service unavailable' })
  })
  it('status code with default message', async () => {
    const res = await get(2)
    assert.equal(res.status, 404)
    assert.deepEqual(res.body, { message: 'Not found' })
  })
  it('status code with custom message', async () => {
    const res = await get(3)
    assert.equal(res.status, 406)
    assert.deepEqual(res.body, { message: 'Invalid' })
  })
  it('returns 204 without content length header', async () => {
    const res = await get(8, '/status/204')
    assert.equal(res.status, 204)
    assert.equal(res.headers['content-length'], undefined)
  })
})

describe('Plugin: request-termination (access) — status code and body', () => {
  it('default status code and body', async () => {
    const res = await get(4)
    assert.equal(res.status, 503)
    assert.equal(res.text, '<html><body><h1>Service is down for maintenance</h1></body></html>')
  })
  it('status code with default message', async () => {
    const res = await get(5)
    assert.equal(res.status, 451)
    assert.equal(res.text, '<html><body><h1>Service is down due to content infringement</h1></body></html>')
  })
  it('status code with custom message', async () => {
    const res = await get(6)
    assert.equal(res.status, 503)
    assert.deepEqual(res.body, { code: 1, message: 'Service unavailable' })
  })
})

describe('Plugin: request-termination (access) — echo & trigger', () => {
  const expected = (n: number, extra: Record<string, string> = {}) => ({
    headers: { 'content-length': '9', host: `api${n}.request-termination.test`, ...extra },
    host: `api${n}.request-termination.test`,
    method: 'GET',
    path: '/status/200',
    port: Number(new URL(gw.url).port),
    query: { hello: 'there' },
    raw_body: 'cool body',
    scheme: 'http',
  })
  it('echos a request if no trigger is set', async () => {
    const res = await get(9, '/status/200?hello=there', {}, 'cool body')
    assert.equal(res.status, 404)
    assert.equal((res.body.matched_route as { hosts: string[] }).hosts[0], 'api9.request-termination.test')
    const request = res.body.request as Record<string, unknown>
    // what our test client adds on its own (Kong's spec client sends neither)
    delete (request.headers as Record<string, unknown>)['user-agent']
    delete (request.headers as Record<string, unknown>).connection
    assert.deepEqual(request, {
      ...expected(9),
      uri_captures: { named: { parameter: 'status' }, unnamed: ['status'] },
    })
  })
  it("doesn't echo a request if the trigger is set but not specified", async () => {
    assert.equal((await get(10)).status, 200)
  })
  it('echos a request if the trigger is specified as a header', async () => {
    const res = await get(10, '/status/200?hello=there', { 'gimme-an-echo': 'anything will do' }, 'cool body')
    assert.equal(res.status, 404)
    assert.equal((res.body.matched_route as { hosts: string[] }).hosts[0], 'api10.request-termination.test')
    const request = res.body.request as Record<string, unknown>
    // what our test client adds on its own (Kong's spec client sends neither)
    delete (request.headers as Record<string, unknown>)['user-agent']
    delete (request.headers as Record<string, unknown>).connection
    assert.deepEqual(request, {
      ...expected(10, { 'gimme-an-echo': 'anything will do' }),
      uri_captures: { named: {}, unnamed: [] },
    })
  })
})

// Port of Kong 3.10 spec/03-plugins/15-response-transformer/04-filter_spec.lua: each case carries
// the name of the Kong `it(...)` it transcribes. Kong's mock upstream sends
// `Access-Control-Allow-Origin` on `/response-headers`; the echo is asked to.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (host: string, path: string) => send(`${gw.url}${path}`, { headers: { host } })

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
routes:
  - name: r1
    service: s
    hosts: [response.test]
    plugins:
      - name: response-transformer
        config: { remove: { headers: [Access-Control-Allow-Origin], json: [url] } }
  - name: r2
    service: s
    hosts: [response2.test]
    plugins:
      - name: response-transformer
        config: { replace: { json: ["headers:/hello/world", "uri_args:this is a / test", 'url:"wot"'] } }
  - name: r3
    service: s
    hosts: [response3.test]
    plugins:
      - name: response-transformer
        config: { remove: { json: [ip] } }
      - name: basic-auth
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

describe('Plugin: response-transformer (filter) parameters', () => {
  it('remove a parameter', async () => {
    const res = await get('response.test', '/get')
    assert.equal(res.status, 200)
    assert.ok(res.text.startsWith('{'))
    assert.equal(res.body.url, undefined)
  })
  it('remove a header', async () => {
    const res = await get('response.test', '/response-headers?access-control-allow-origin=*')
    assert.equal(res.status, 200)
    assert.ok(res.text.startsWith('{'))
    assert.equal(res.headers['access-control-allow-origin'], undefined)
  })
  it('replace a body parameter on GET', async () => {
    const res = await get('response2.test', '/get')
    assert.equal(res.status, 200)
    assert.equal(res.body.headers, '/hello/world')
    assert.equal(res.body.url, '"wot"')
    assert.equal(res.body.uri_args, 'this is a / test')
  })
})

describe('Plugin: response-transformer (filter) regressions', () => {
  it('does not throw an error when request was short-circuited in access phase', async () => {
    assert.equal((await get('response3.test', '/get')).status, 401)
  })
})

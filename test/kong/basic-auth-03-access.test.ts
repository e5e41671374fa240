// Port of Kong 3.10 spec/03-plugins/10-basic-auth/03-access_spec.lua (HTTP cases; gRPC is not
// proxied by Portico): each case carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

const ANON_MISSING = '7b1c2d3e-0000-4000-8000-000000000004'
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (host: string, path: string, headers: Record<string, string> = {}) =>
  send(`${gw.url}${path}`, { headers: { host, ...headers } })
const route = (n: number, config: string) =>
  `  - { name: r${n}, service: s, hosts: [basic-auth${n}.test], plugins: [{ name: basic-auth, config: ${config} }] }`

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
consumers:
  - username: bob
    basicauth_credentials:
      - { username: bob, password: kong }
      - { username: user123, password: password123 }
      - { username: user321, password: "password:123" }
  - { username: no-body, id: 7b1c2d3e-0000-4000-8000-000000000001 }
routes:
${route(1, '{ realm: test-realm }')}
${route(2, '{ hide_credentials: true }')}
${route(3, '{ anonymous: 7b1c2d3e-0000-4000-8000-000000000001 }')}
${route(4, `{ anonymous: ${ANON_MISSING} }`)}
${route(5, '{ anonymous: no-body }')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

const unauthorized = (res: Awaited<ReturnType<typeof get>>, realm = 'test-realm') => {
  assert.equal(res.status, 401)
  assert.match(String(res.body.message), /Unauthorized/)
  assert.equal(res.headers['www-authenticate'], `Basic realm="${realm}"`)
}

describe('Plugin: basic-auth (access) — Unauthorized', () => {
  it('returns Unauthorized on missing credentials (when realm is configured)', async () => {
    unauthorized(await get('basic-auth1.test', '/status/200'))
  })
  it('returns Unauthorized on missing credentials (when realm is default)', async () => {
    unauthorized(await get('basic-auth2.test', '/status/200'), 'service')
  })
  it('returns 401 Unauthorized on invalid credentials in Authorization', async () => {
    unauthorized(await get('basic-auth1.test', '/status/200', { authorization: 'foobar' }))
  })
  it('returns 401 Unauthorized on invalid credentials in Proxy-Authorization', async () => {
    unauthorized(await get('basic-auth1.test', '/status/200', { 'proxy-authorization': 'foobar' }))
  })
  it('returns 401 Unauthorized on password only', async () => {
    unauthorized(await get('basic-auth1.test', '/status/200', { authorization: 'Basic a29uZw==' }))
  })
  it('returns 401 Unauthorized on username only', async () => {
    unauthorized(await get('basic-auth1.test', '/status/200', { authorization: 'Basic Ym9i' }))
  })
  it('authenticates valid credentials in Authorization', async () => {
    assert.equal(
      (await get('basic-auth1.test', '/status/200', { authorization: 'Basic Ym9iOmtvbmc=' })).status,
      200,
    )
  })
  it('authenticates valid credentials in Authorization (consumer headers)', async () => {
    const res = await get('basic-auth1.test', '/request', {
      authorization: 'Basic dXNlcjEyMzpwYXNzd29yZDEyMw==',
    })
    const h = res.body.headers as Record<string, string>
    assert.equal(h['x-consumer-username'], 'bob')
    assert.equal(h['x-credential-identifier'], 'user123')
  })
  it("authenticates with a password containing ':'", async () => {
    const res = await get('basic-auth1.test', '/request', {
      authorization: 'Basic dXNlcjMyMTpwYXNzd29yZDoxMjM=',
    })
    assert.equal(res.status, 200)
    assert.equal((res.body.headers as Record<string, string>)['x-consumer-username'], 'bob')
  })
  it('returns 401 for valid Base64 encoding', async () => {
    unauthorized(
      await get('basic-auth1.test', '/status/200', { authorization: 'Basic adXNlcjEyMzpwYXNzd29yZDEyMw==' }),
    )
  })
  it('authenticates valid credentials in Proxy-Authorization', async () => {
    assert.equal(
      (await get('basic-auth1.test', '/status/200', { 'proxy-authorization': 'Basic Ym9iOmtvbmc=' })).status,
      200,
    )
  })
})

describe('Plugin: basic-auth (access) — Consumer headers', () => {
  it('sends Consumer headers to upstream', async () => {
    const res = await get('basic-auth1.test', '/request', { authorization: 'Basic Ym9iOmtvbmc=' })
    const h = res.body.headers as Record<string, string>
    assert.equal(typeof h['x-consumer-id'], 'string')
    assert.equal(h['x-consumer-username'], 'bob')
  })
  it('sends Consumer headers to upstream (X-Credential-Identifier is the username)', async () => {
    const res = await get('basic-auth1.test', '/request', { authorization: 'Basic Ym9iOmtvbmc=' })
    assert.equal((res.body.headers as Record<string, string>)['x-credential-identifier'], 'bob')
  })
})

describe('Plugin: basic-auth (access) — config.hide_credentials', () => {
  it('false sends key to upstream', async () => {
    const res = await get('basic-auth1.test', '/request', { authorization: 'Basic Ym9iOmtvbmc=' })
    assert.equal((res.body.headers as Record<string, string>).authorization, 'Basic Ym9iOmtvbmc=')
  })
  it("true doesn't send key to upstream", async () => {
    const res = await get('basic-auth2.test', '/request', { authorization: 'Basic Ym9iOmtvbmc=' })
    assert.equal(res.status, 200)
    assert.equal((res.body.headers as Record<string, string>).authorization, undefined)
  })
})

describe('Plugin: basic-auth (access) — config.anonymous', () => {
  it('works with right credentials and anonymous', async () => {
    const res = await get('basic-auth3.test', '/request', {
      authorization: 'Basic dXNlcjEyMzpwYXNzd29yZDEyMw==',
    })
    const h = res.body.headers as Record<string, string>
    assert.equal(h['x-consumer-username'], 'bob')
    assert.equal(h['x-anonymous-consumer'], undefined)
  })
  it('works with wrong credentials and anonymous', async () => {
    const res = await get('basic-auth3.test', '/request')
    assert.equal(res.status, 200)
    const h = res.body.headers as Record<string, string>
    assert.equal(h['x-anonymous-consumer'], 'true')
    assert.equal(h['x-consumer-username'], 'no-body')
    assert.equal(h['x-credential-identifier'], undefined)
  })
  it('works with wrong credentials and username in anonymous', async () => {
    const h = (await get('basic-auth5.test', '/request')).body.headers as Record<string, string>
    assert.equal(h['x-anonymous-consumer'], 'true')
    assert.equal(h['x-consumer-username'], 'no-body')
  })
  it("errors when anonymous user doesn't exist", async () => {
    const res = await get('basic-auth4.test', '/request')
    assert.equal(res.status, 500)
    assert.equal(res.body.message, `anonymous consumer ${ANON_MISSING} is configured but doesn't exist`)
  })
})

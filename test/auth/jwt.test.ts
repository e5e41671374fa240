import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { AdminRequest } from '../../src/core/admin.js'
import { plugin as jwtPlugin } from '../../src/plugins/jwt/plugin.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'
import { jwtConsumers, SECRET } from '../fixtures/jwt-helpers.js'

type Node = Awaited<ReturnType<typeof gateway>>
const enc = (s: string) => new TextEncoder().encode(s)
const now = () => Math.floor(Date.now() / 1000)
const hs = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(enc(secret))
const message = (r: { json: () => unknown }) => (r.json() as { message?: string }).message

/** A JWKS endpoint on loopback that counts its hits and serves whatever keys the test sets. */
async function jwksServer(): Promise<{
  url: string
  hits: () => number
  keys: unknown[]
  hang: boolean
  close: () => Promise<void>
}> {
  const state = { hits: 0, keys: [] as unknown[], hang: false }
  const server = http.createServer((_req, res) => {
    state.hits++
    if (state.hang) return // never answers: the gateway's timeout must end the wait
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    hits: () => state.hits,
    get keys() {
      return state.keys
    },
    set keys(k) {
      state.keys = k
    },
    get hang() {
      return state.hang
    },
    set hang(h) {
      state.hang = h
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

describe('jwt through a real gateway', () => {
  let up: Upstream
  let gw: Node
  let jwks: Awaited<ReturnType<typeof jwksServer>>
  let slow: Awaited<ReturnType<typeof jwksServer>>
  const rsa = generateKeyPair('RS256', { extractable: true })
  const idp1 = generateKeyPair('RS256', { extractable: true })
  const idp2 = generateKeyPair('RS256', { extractable: true })

  before(async () => {
    up = await upstream('up')
    jwks = await jwksServer()
    slow = await jwksServer()
    slow.hang = true
    jwks.keys = [{ ...(await exportJWK((await idp1).publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }]
    const pem = await exportSPKI((await rsa).publicKey)
    gw = await gateway(`
_format_version: "3.0"
${jwtConsumers(
  pem,
  `      - { key: idp, algorithm: RS256, jwks_uri: "${jwks.url}" }
      - { key: slow-idp, algorithm: RS256, jwks_uri: "${slow.url}" }
`,
)}services:
  - name: s
    url: ${up.url}
    routes:
      - name: api
        paths: [/api]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp], cookie_names: [session] } }]
      - name: lenient
        paths: [/lenient]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp, nbf], leeway: 30 } }]
`)
  })
  after(async () => {
    await gw.stop()
    await up.close()
    await jwks.close()
    await slow.close()
  })
  const last = () => up.seen.at(-1)!

  test('an HS256 token in the header, the query or a cookie reaches the upstream with the identity', async () => {
    const t = await hs({ iss: 'alice-iss', exp: now() + 300 })
    const cases: Array<{ path: string; headers: Record<string, string> }> = [
      { path: '/api', headers: { authorization: `Bearer ${t}` } },
      { path: `/api?jwt=${t}`, headers: {} },
      { path: '/api', headers: { cookie: `theme=dark; session=${t}` } },
    ]
    for (const opts of cases) {
      const r = await call(`${gw.url}${opts.path}`, {
        headers: { ...opts.headers, 'x-consumer-username': 'root' },
      })
      assert.equal(r.status, 200, opts.path)
      assert.equal(last().headers['x-consumer-username'], 'alice')
      assert.equal(last().headers['x-credential-identifier'], 'alice-iss')
    }
  })

  test('RS256 with the configured public key', async () => {
    const t = await new SignJWT({ iss: 'bob-iss', exp: now() + 300 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign((await rsa).privateKey)
    const r = await call(`${gw.url}/api`, { headers: { authorization: `Bearer ${t}` } })
    assert.equal(r.status, 200)
    assert.equal(last().headers['x-consumer-username'], 'bob')
  })

  test("Kong's 401s: no token, expired (error object), unknown iss; nothing reaches the upstream", async () => {
    const before = up.seen.length
    const none = await call(`${gw.url}/api`)
    assert.equal(none.status, 401)
    assert.equal(message(none), 'Unauthorized')
    assert.equal(none.headers['www-authenticate'], 'Bearer')
    const expired = await call(`${gw.url}/api`, {
      headers: { authorization: `Bearer ${await hs({ iss: 'alice-iss', exp: now() - 1 })}` },
    })
    assert.equal(expired.status, 401)
    assert.deepEqual(expired.json(), { exp: 'token expired' })
    assert.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token"')
    const unknown = await call(`${gw.url}/api`, {
      headers: { authorization: `Bearer ${await hs({ iss: 'eve', exp: now() + 60 })}` },
    })
    assert.equal(message(unknown), "No credentials found for given 'iss'")
    assert.equal(up.seen.length, before)
  })

  test('leeway (Portico): exp and nbf within 30 s of skew pass', async () => {
    const t = await hs({ iss: 'alice-iss', exp: now() - 10, nbf: now() + 10 })
    assert.equal((await call(`${gw.url}/lenient`, { headers: { authorization: `Bearer ${t}` } })).status, 200)
    assert.equal((await call(`${gw.url}/api`, { headers: { authorization: `Bearer ${t}` } })).status, 401)
  })

  test('JWKS: keys fetched once at load, an unknown kid refreshes once, then the rate limit holds', async () => {
    const sign = async (kid: string, key: Awaited<typeof idp1>) =>
      new SignJWT({ iss: 'idp', exp: now() + 300 })
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(key.privateKey)
    const k1 = await call(`${gw.url}/api`, {
      headers: { authorization: `Bearer ${await sign('k1', await idp1)}` },
    })
    assert.equal(k1.status, 200)
    assert.equal(last().headers['x-consumer-username'], 'partner')
    assert.equal(jwks.hits(), 1, 'fetched once, when the config loaded')
    // the IdP rotates: k2 appears; the first token signed with it makes the gateway look again
    jwks.keys = [...jwks.keys, { ...(await exportJWK((await idp2).publicKey)), kid: 'k2', alg: 'RS256' }]
    const k2 = await call(`${gw.url}/api`, {
      headers: { authorization: `Bearer ${await sign('k2', await idp2)}` },
    })
    assert.equal(k2.status, 200)
    assert.equal(jwks.hits(), 2)
    // a kid nobody has: refused, and no third fetch within the minimum refresh interval
    for (let i = 0; i < 5; i++) {
      const k3 = await call(`${gw.url}/api`, {
        headers: { authorization: `Bearer ${await sign(`k3-${i}`, await idp2)}` },
      })
      assert.equal(k3.status, 401)
      assert.equal(message(k3), 'Invalid key/secret')
    }
    assert.equal(jwks.hits(), 2)
    // known kids keep working from the cache
    assert.equal(
      (await call(`${gw.url}/api`, { headers: { authorization: `Bearer ${await sign('k1', await idp1)}` } }))
        .status,
      200,
    )
    assert.equal(jwks.hits(), 2)
  })

  test('JWKS: a server that never answers costs a bounded wait, then 401', async () => {
    const t = await new SignJWT({ iss: 'slow-idp', exp: now() + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: 'x' })
      .sign((await idp1).privateKey)
    const r = await call(`${gw.url}/api`, { headers: { authorization: `Bearer ${t}` } })
    assert.equal(r.status, 401)
    assert.equal(message(r), 'Invalid key/secret')
    assert.ok(slow.hits() >= 1)
  })

  test('revocation admin endpoints (mounted by the control plane): POST 201, GET 200/404, DELETE 204', async () => {
    const routes = jwtPlugin.adminRoutes!(gw.services)
    const route = (method: string, path: string) =>
      routes.find((r) => r.method === method && r.path === path)!
    const req = (body: Record<string, unknown>, params: Record<string, string> = {}): AdminRequest => ({
      method: 'X',
      params,
      query: new URLSearchParams(),
      body,
    })
    const token = await hs({ iss: 'alice-iss', exp: now() + 300, jti: 'admin-jti-1' })
    const auth = { authorization: `Bearer ${token}` }
    assert.equal((await call(`${gw.url}/api`, { headers: auth })).status, 200)

    const created = await route('POST', '/jwt/revocations').handle(req({ token }))
    assert.equal(created.status, 201)
    assert.deepEqual(
      { ...(created.body as object), propagated: undefined },
      { id: 'admin-jti-1', exp: now() + 300, propagated: undefined },
    )
    const refused = await call(`${gw.url}/api`, { headers: auth })
    assert.equal(refused.status, 401)
    assert.equal(message(refused), 'Token revoked')
    const got = await route('GET', '/jwt/revocations/:id').handle(req({}, { id: 'admin-jti-1' }))
    assert.equal(got.status, 200)
    assert.equal((await route('GET', '/jwt/revocations/:id').handle(req({}, { id: 'nope' }))).status, 404)
    assert.equal(
      (await route('DELETE', '/jwt/revocations/:id').handle(req({}, { id: 'admin-jti-1' }))).status,
      204,
    )
    assert.equal((await call(`${gw.url}/api`, { headers: auth })).status, 200)

    // by jti with an explicit exp; bad input is a schema violation
    assert.equal(
      (await route('POST', '/jwt/revocations').handle(req({ jti: 'j2', exp: now() + 60 }))).status,
      201,
    )
    for (const bad of [
      {},
      { token, jti: 'x' },
      { token: 'not-a-jwt' },
      { jti: 'x', exp: now() - 5 },
      { jti: 'x', exp: 'soon' },
    ]) {
      const r = await route('POST', '/jwt/revocations').handle(req(bad))
      assert.equal(r.status, 400, JSON.stringify(bad))
      const body = r.body as { code: number; name: string }
      assert.deepEqual([body.code, body.name], [2, 'schema violation'])
    }
  })
})

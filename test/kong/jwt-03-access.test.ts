// Port of Kong 3.10 spec/03-plugins/16-jwt/03-access_spec.lua (the HS256 cases; gRPC is not
// proxied by Portico): each case carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

const SECRET = 'a36c3049b36249a3c9f8891cb127243c'
const KEY = 'jwt-key-1'
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const now = () => Math.floor(Date.now() / 1000)
const sign = (payload: Record<string, unknown>, secret = SECRET, header: Record<string, unknown> = {}) =>
  new SignJWT(payload)
    .setProtectedHeader({ typ: 'JWT', alg: 'HS256', ...header } as { alg: string })
    .sign(new TextEncoder().encode(secret))
const get = (n: number, headers: Record<string, string | string[]> = {}, path = '/request', method = 'GET') =>
  send(`${gw.url}${path}`, { method, headers: { host: `jwt${n}.test`, ...headers } })
const CONFIGS: Record<number, string> = {
  1: '{}',
  2: '{ uri_param_names: [token, jwt] }',
  3: '{ claims_to_verify: [nbf, exp] }',
  4: '{ key_claim_name: aud }',
  8: '{ run_on_preflight: false }',
  9: '{ cookie_names: [silly, crumble] }',
  11: '{ claims_to_verify: [nbf, exp], maximum_expiration: 300 }',
  12: '{ header_names: [CustomAuthorization] }',
}

before(async () => {
  echo = await kongEcho()
  const routes = Object.entries(CONFIGS).map(
    ([n, config]) =>
      `  - { name: r${n}, service: s, hosts: [jwt${n}.test], plugins: [{ name: jwt, config: ${config} }] }`,
  )
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
consumers:
  - username: jwt_tests_consumer
    jwt_secrets: [{ key: ${KEY}, secret: ${SECRET} }]
routes:
${routes.join('\n')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

type Res = Awaited<ReturnType<typeof get>>
const refused = (res: Res, message: string) => {
  assert.equal(res.status, 401)
  assert.deepEqual(res.body, { message })
  assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
}

describe('Plugin: jwt (access) — refusals', () => {
  it('returns 401 Unauthorized if no JWT is found in the request', async () => {
    const res = await get(1)
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Bearer')
  })
  it('returns 401 if the claims do not contain the key to identify a secret', async () => {
    refused(
      await get(1, { authorization: `Bearer ${await sign({ name: 'x' }, 'foo')}` }),
      "No mandatory 'iss' in claims",
    )
  })
  it('returns 401 if the claims do not contain a valid key to identify a secret', async () => {
    refused(
      await get(1, { authorization: `Bearer ${await sign({ iss: '' }, 'foo')}` }),
      "Invalid 'iss' in claims",
    )
  })
  it('returns 401 Unauthorized if the iss does not match a credential', async () => {
    refused(
      await get(1, { authorization: `Bearer ${await sign({ iss: '123456789' })}` }),
      "No credentials found for given 'iss'",
    )
  })
  it('returns 401 Unauthorized if the signature is invalid', async () => {
    refused(await get(1, { authorization: `Bearer ${await sign({ iss: KEY }, 'foo')}` }), 'Invalid signature')
  })
  it('returns 401 Unauthorized if the alg does not match the credential', async () => {
    const token = await sign({ iss: KEY }, SECRET, { alg: 'HS256' })
    const [, payload, signature] = token.split('.')
    const forged = `${Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256' })).toString('base64url')}.${payload}.${signature}`
    refused(await get(1, { authorization: `Bearer ${forged}` }), 'Invalid algorithm')
  })
  it('returns 200 on OPTIONS requests if run_on_preflight is false', async () => {
    assert.equal((await get(8, {}, '/request', 'OPTIONS')).status, 200)
  })
  it('returns Unauthorized on OPTIONS requests if run_on_preflight is true', async () => {
    const res = await get(1, {}, '/request', 'OPTIONS')
    assert.equal(res.status, 401)
    assert.equal(res.text, '{"message":"Unauthorized"}')
    assert.equal(res.headers['www-authenticate'], 'Bearer')
  })
  it('returns 401 if the token exceeds the maximum allowed expiration limit', async () => {
    const jwt = await sign({ iss: KEY, exp: now() + 3600, nbf: now() - 30 })
    const res = await get(11, {}, `/request/?jwt=${jwt}`)
    assert.equal(res.status, 401)
    assert.equal(res.text, '{"exp":"exceeds maximum allowed expiration"}')
  })
  it('accepts a JWT token within the maximum allowed expiration limit', async () => {
    const jwt = await sign({ iss: KEY, exp: now() + 270, nbf: now() - 30 })
    assert.equal((await get(11, {}, `/request/?jwt=${jwt}`)).status, 200)
  })
  it('reject if multiple different tokens found', async () => {
    const jwt = await sign({ iss: KEY })
    const res = await get(1, { authorization: 'Bearer invalid.jwt.token' }, `/request?jwt=${jwt}`)
    assert.equal(res.status, 401)
    assert.deepEqual(res.body, { message: 'Multiple tokens provided' })
  })
})

describe('Plugin: jwt (access) — HS256', () => {
  it('proxies the request with token and consumer headers if it was verified', async () => {
    const jwt = await sign({ iss: KEY })
    const res = await get(1, { authorization: `Bearer ${jwt}` })
    assert.equal(res.status, 200)
    const h = res.body.headers as Record<string, string>
    assert.equal(h.authorization, `Bearer ${jwt}`)
    assert.equal(h['x-consumer-username'], 'jwt_tests_consumer')
    assert.equal(h['x-credential-identifier'], KEY)
    assert.equal(h['x-anonymous-consumer'], undefined)
  })
  it('proxies the request if the key is found in headers', async () => {
    const jwt = await sign({ name: 'x' }, SECRET, { iss: KEY })
    assert.equal((await get(1, { authorization: `Bearer ${jwt}` })).status, 200)
  })
  it('proxies the request if secret key is stored in a field other than iss', async () => {
    const jwt = await sign({ aud: KEY })
    assert.equal((await get(4, { authorization: `Bearer ${jwt}` })).status, 200)
  })
  it('returns 200 the JWT is found in the cookie crumble', async () => {
    const jwt = await sign({ iss: KEY })
    assert.equal((await get(9, { cookie: `crumble=${jwt}; path=/;domain=.jwt9.test` })).status, 200)
  })
  it('returns 200 if the JWT is found in the cookie silly', async () => {
    const jwt = await sign({ iss: KEY })
    assert.equal((await get(9, { cookie: `silly=${jwt}; path=/;domain=.jwt9.test` })).status, 200)
  })
  it('returns 401 if the JWT found in the cookie does not match a credential', async () => {
    const jwt = await sign({ iss: 'incorrect-issuer' })
    assert.equal((await get(9, { cookie: `crumble=${jwt}; path=/;domain=.jwt9.test` })).status, 401)
  })
  it('returns a 401 if the JWT in the cookie is corrupted', async () => {
    const res = await get(9, { cookie: 'crumble=no-way-this-works; path=/;domain=.jwt9.test' })
    assert.equal(res.status, 401)
  })
  it('reports a 200 without cookies but with a JWT token in the Authorization header', async () => {
    assert.equal((await get(9, { authorization: `Bearer ${await sign({ iss: KEY })}` })).status, 200)
  })
  it('returns 401 if no JWT tokens are found in cookies or Authorization header', async () => {
    assert.equal((await get(9)).status, 401)
  })
  it('returns 200 without cookies but with a JWT token in the CustomAuthorization header', async () => {
    assert.equal((await get(12, { customauthorization: `Bearer ${await sign({ iss: KEY })}` })).status, 200)
  })
  it('finds the JWT in the first header occurrence of a duplicated custom authorization header', async () => {
    const jwt = await sign({ iss: KEY })
    assert.equal(
      (await get(12, { customauthorization: [`Bearer ${jwt}`, 'Bearer other-token'] })).status,
      200,
    )
  })
  it('finds the JWT if given in URL parameters', async () => {
    assert.equal((await get(1, {}, `/request/?jwt=${await sign({ iss: KEY })}`)).status, 200)
  })
  it('finds the JWT if given in a custom URL parameter', async () => {
    assert.equal((await get(2, {}, `/request/?token=${await sign({ iss: KEY })}`)).status, 200)
  })
})

describe('Plugin: jwt (access) — JWT private claims checks', () => {
  it('requires the checked fields to be in the claims', async () => {
    const res = await get(3, { authorization: `Bearer ${await sign({ iss: KEY })}` })
    assert.equal(res.status, 401)
    // Kong's body is a Lua table serialised by cjson: its key order is not part of the contract
    assert.deepEqual(JSON.parse(res.text), { nbf: 'must be a number', exp: 'must be a number' })
  })
  it('checks if the fields are valid: `exp` claim', async () => {
    const res = await get(3, {
      authorization: `Bearer ${await sign({ iss: KEY, exp: now() - 10, nbf: now() - 10 })}`,
    })
    assert.equal(res.status, 401)
    assert.equal(res.text, '{"exp":"token expired"}')
  })
  it('checks if the fields are valid: `nbf` claim', async () => {
    const res = await get(3, {
      authorization: `Bearer ${await sign({ iss: KEY, exp: now() + 10, nbf: now() + 5 })}`,
    })
    assert.equal(res.status, 401)
    assert.equal(res.text, '{"nbf":"token not valid yet"}')
  })
})

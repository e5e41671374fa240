import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import { DEMO_CONSUMERS } from '../consumers.js'
import { startAuth } from './auth.js'
import type { DemoServer } from './types.js'

const [alice, bob] = DEMO_CONSUMERS as [(typeof DEMO_CONSUMERS)[0], (typeof DEMO_CONSUMERS)[0]]
const key = (secret: string) => new TextEncoder().encode(secret)

let srv: DemoServer

before(async () => {
  srv = await startAuth()
})
after(() => srv.close())

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
}

async function token(body: Record<string, string>): Promise<string> {
  const res = await post('/token', JSON.stringify(body))
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const reply = (await res.json()) as { access_token: string; token_type: string; expires_in: number }
  assert.equal(reply.token_type, 'Bearer')
  assert.equal(reply.expires_in, 3600)
  return reply.access_token
}

test('POST /token issues an HS256 JWT that verifies with the consumer secret', async () => {
  const jwt = await token({ username: 'alice', password: alice.password })
  assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'HS256', typ: 'JWT' })
  const { payload } = await jwtVerify(jwt, key(alice.jwt.secret), {
    algorithms: ['HS256'],
    issuer: 'alice-iss',
  })
  assert.equal(payload.sub, 'alice')
  assert.equal(payload.exp! - payload.iat!, 3600)
  assert.match(String(payload.jti), /^[0-9a-f-]{36}$/)
  // signed with alice's secret, not bob's
  await assert.rejects(jwtVerify(jwt, key(bob.jwt.secret)))
  // a fresh jti every time, so tokens are distinguishable (and revocable one by one)
  const again = await token({ username: 'alice', password: alice.password })
  const second = await jwtVerify(again, key(alice.jwt.secret))
  assert.notEqual(second.payload.jti, payload.jti)
})

test('client credentials work as JSON, form and HTTP Basic', async () => {
  const json = await token({ client_id: bob.clientId, client_secret: bob.clientSecret })
  assert.equal((await jwtVerify(json, key(bob.jwt.secret))).payload.iss, 'bob-iss')

  const form = await fetch(`${srv.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=password&username=bob&password=${bob.password}`,
  })
  assert.equal(form.status, 200)

  const basic = Buffer.from(`${alice.clientId}:${alice.clientSecret}`).toString('base64')
  const viaHeader = await post('/token', 'grant_type=client_credentials', {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${basic}`,
  })
  assert.equal(viaHeader.status, 200)
})

test('bad credentials are 401, missing ones 400, bad JSON 400', async () => {
  for (const body of [
    { username: 'alice', password: 'wrong' },
    { username: 'alice', password: bob.password },
    { username: 'mallory', password: 'x' },
    { username: 'alice' },
    { client_id: 'alice-client', client_secret: 'nope' },
  ]) {
    const res = await post('/token', JSON.stringify(body))
    assert.equal(res.status, 401, JSON.stringify(body))
    assert.ok(res.headers.get('www-authenticate'))
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_credentials')
  }
  const empty = await post('/token', '{}')
  assert.equal(empty.status, 400)
  assert.equal(((await empty.json()) as { error: string }).error, 'invalid_request')
  const broken = await post('/token', '{"username":')
  assert.equal(broken.status, 400)
  assert.equal(((await broken.json()) as { error: string }).error, 'invalid_json')
})

test('POST /introspect reports active tokens with their claims and refuses the rest', async () => {
  const jwt = await token({ username: 'bob', password: bob.password })
  const active = await post('/introspect', JSON.stringify({ token: jwt }))
  assert.equal(active.status, 200)
  const claims = (await active.json()) as Record<string, unknown>
  assert.equal(claims.active, true)
  assert.equal(claims.iss, 'bob-iss')
  assert.equal(claims.sub, 'bob')
  assert.equal(claims.username, 'bob')
  assert.equal(typeof claims.exp, 'number')

  const viaBearer = await post('/introspect', '', { authorization: `Bearer ${jwt}` })
  assert.equal(((await viaBearer.json()) as { active: boolean }).active, true)

  const now = Math.floor(Date.now() / 1000)
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('bob-iss')
    .setSubject('bob')
    .setExpirationTime(now - 60)
    .sign(key(bob.jwt.secret))
  const forged = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('alice-iss')
    .setSubject('alice')
    .setExpirationTime(now + 60)
    .sign(key(bob.jwt.secret))
  const [head, body] = jwt.split('.')
  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`
  for (const bad of [expired, forged, unsigned, `${head}.${body}.AAAA`, 'not-a-jwt']) {
    const res = await post('/introspect', JSON.stringify({ token: bad }))
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { active: false })
  }

  const missing = await post('/introspect', '{}')
  assert.equal(missing.status, 400)
  await missing.body?.cancel()
})

test('GET /resource names the consumer the gateway identified', async () => {
  const anon = await fetch(`${srv.url}/resource`)
  assert.deepEqual(await anon.json(), { resource: 'protected', user: null })
  const known = await fetch(`${srv.url}/resource`, { headers: { 'x-consumer-username': 'alice' } })
  assert.deepEqual(await known.json(), { resource: 'protected', user: 'alice' })

  const wrong = await fetch(`${srv.url}/token`)
  assert.equal(wrong.status, 405)
  assert.equal(wrong.headers.get('allow'), 'POST')
  await wrong.body?.cancel()
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200)
})

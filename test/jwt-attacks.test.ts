import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { DEFAULT_SERVER_LIMITS } from '../src/data-plane/server.js'
import { nodeRevocations } from '../src/plugins/jwt/revocation/node.js'
import { forge } from '../src/plugins/jwt/testing.js'
import { call, gateway, sleep, type Upstream, upstream } from './helpers.js'

type Node = Awaited<ReturnType<typeof gateway>>
const enc = (s: string) => new TextEncoder().encode(s)
const SECRET = 'alice-hs256-demo-secret-0123456789abcdef'
const now = () => Math.floor(Date.now() / 1000)
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
const hs = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(enc(SECRET))

const rsa = await generateKeyPair('RS256', { extractable: true })
const attacker = await generateKeyPair('RS256', { extractable: true })
const rsaPem = await exportSPKI(rsa.publicKey)

const config = (up: string, jwksUri: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets: [{ key: alice-iss, algorithm: HS256, secret: ${SECRET} }]
  - username: bob
    jwt_secrets:
      - key: bob-iss
        algorithm: RS256
        rsa_public_key: |
          ${rsaPem.replace(/\n/g, '\n          ')}
  - username: partner
    jwt_secrets: [{ key: idp, algorithm: RS256, jwks_uri: "${jwksUri}" }]
services:
  - name: s
    url: ${up}
    routes:
      - name: api
        paths: [/api]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp, nbf] } }]
      - name: skew
        paths: [/skew]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp, nbf], leeway: 30 } }]
      - name: logout
        paths: [/logout]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp], logout_paths: [/logout] } }]
`

/** An HTTP server an attacker controls: it must never be contacted. */
async function attackerServer() {
  let hits = 0
  const jwk = { ...(await exportJWK(attacker.publicKey)), kid: 'evil', alg: 'RS256' }
  const server = http.createServer((_req, res) => {
    hits++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    jwk,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('jwt attack catalogue: each refused with 401, the upstream sees nothing', () => {
  let up: Upstream
  let gw: Node
  let evil: Awaited<ReturnType<typeof attackerServer>>
  let idp: http.Server
  const idpKey = generateKeyPair('RS256', { extractable: true })

  before(async () => {
    up = await upstream('up')
    evil = await attackerServer()
    const jwk = { ...(await exportJWK((await idpKey).publicKey)), kid: 'good', alg: 'RS256' }
    idp = http.createServer((_q, s) => s.end(JSON.stringify({ keys: [jwk] })))
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r))
    gw = await gateway(config(up.url, `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks`))
  })
  after(async () => {
    await gw.stop()
    await up.close()
    await evil.close()
    await new Promise<void>((r) => idp.close(() => r()))
  })

  /** Sends the token and asserts a 401 that never reached the upstream; returns the body. */
  async function refused(token: string, path = '/api'): Promise<Record<string, unknown>> {
    const before = up.seen.length
    const r = await call(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 401, r.text)
    assert.equal(up.seen.length, before, 'the upstream saw nothing')
    return r.json() as Record<string, unknown>
  }
  async function accepted(token: string, path = '/api'): Promise<void> {
    const before = up.seen.length
    const r = await call(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 200, r.text)
    assert.equal(up.seen.length, before + 1)
  }

  test('the honest tokens pass (the baseline for everything below)', async () => {
    await accepted(await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() }))
    const t = await new SignJWT({ iss: 'bob-iss', exp: now() + 60, nbf: now() })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rsa.privateKey)
    await accepted(t)
  })

  test('alg: none (any spelling), unsigned', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const body = await refused(
        forge({ alg, typ: 'JWT' }, { iss: 'alice-iss', exp: now() + 60, nbf: now() }, null),
      )
      assert.equal(body.message, 'Bad token; invalid alg')
    }
  })

  test('HS256 signed with the RSA public key of an RS256 credential (HS/RS confusion)', async () => {
    for (const key of [rsaPem, rsaPem.trim(), Buffer.from(rsaPem)]) {
      const body = await refused(
        forge({ alg: 'HS256' }, { iss: 'bob-iss', exp: now() + 60, nbf: now() }, key),
      )
      assert.equal(body.message, 'Invalid algorithm')
    }
    // and the other way round: an RS256 token for an HS256 credential
    const rs = await new SignJWT({ iss: 'alice-iss', exp: now() + 60, nbf: now() })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(attacker.privateKey)
    assert.equal((await refused(rs)).message, 'Invalid algorithm')
  })

  test('kid with a path or an SQL fragment chooses nothing', async () => {
    const claims = { iss: 'alice-iss', exp: now() + 60, nbf: now() }
    // the classic: point kid at an empty file and sign with the empty key
    for (const [kid, key] of [
      ['../../../../../../dev/null', ''],
      ['/etc/passwd', 'root:x:0:0'],
      ["' UNION SELECT 'attacker-key' --", 'attacker-key'],
      ["x' OR '1'='1", '1'],
    ] as const) {
      const body = await refused(forge({ alg: 'HS256', kid }, claims, key))
      assert.equal(body.message, 'Invalid signature', kid)
    }
  })

  test('jku, x5u and an embedded jwk never cause a fetch or choose the key', async () => {
    const claims = { iss: 'bob-iss', exp: now() + 60, nbf: now() }
    const sign = (header: Record<string, unknown>, c: Record<string, unknown> = claims) =>
      new SignJWT(c).setProtectedHeader({ alg: 'RS256', ...header }).sign(attacker.privateKey)
    for (const header of [
      { jku: `${evil.url}/jwks.json`, kid: 'evil' },
      { x5u: `${evil.url}/cert.pem` },
      { jwk: evil.jwk },
      { jku: `${evil.url}/jwks.json`, x5u: `${evil.url}/c`, jwk: evil.jwk, kid: 'evil' },
    ]) {
      assert.equal((await refused(await sign(header))).message, 'Invalid signature')
    }
    // a JWKS credential only ever reads its own configured URL
    for (const header of [
      { jku: `${evil.url}/jwks.json`, kid: 'evil' },
      { jwk: evil.jwk, kid: 'good' },
    ]) {
      const body = await refused(await sign(header, { iss: 'idp', exp: now() + 60, nbf: now() }))
      assert.match(String(body.message), /^Invalid (signature|key\/secret)$/)
    }
    assert.equal(evil.hits(), 0, 'the attacker server was never contacted')
  })

  test('expired, not yet valid, missing exp when required', async () => {
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: now() - 1, nbf: now() })), {
      exp: 'token expired',
    })
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() + 60 })), {
      nbf: 'token not valid yet',
    })
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', nbf: now() })), { exp: 'must be a number' })
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: `${now() + 60}`, nbf: now() })), {
      exp: 'must be a number',
    })
  })

  test('leeway 30 s: 1 s inside each edge is accepted, 1 s outside is refused', async () => {
    const L = 30
    // start early in a second so the check happens in the same second the claims were computed
    const aligned = async () => {
      while (Date.now() % 1000 > 400) await sleep(20)
      return now()
    }
    let t = await aligned()
    await accepted(await hs({ iss: 'alice-iss', exp: t - L + 1, nbf: t }), '/skew')
    t = await aligned()
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: t - L - 1, nbf: t }), '/skew'), {
      exp: 'token expired',
    })
    t = await aligned()
    await accepted(await hs({ iss: 'alice-iss', exp: t + 60, nbf: t + L - 1 }), '/skew')
    t = await aligned()
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: t + 60, nbf: t + L + 1 }), '/skew'), {
      nbf: 'token not valid yet',
    })
    // without leeway the inside cases are refused
    t = await aligned()
    await refused(await hs({ iss: 'alice-iss', exp: t - L + 1, nbf: t }))
  })

  test('wrong iss, tampered claims, stripped signature', async () => {
    assert.equal(
      (await refused(await hs({ iss: 'mallory-iss', exp: now() + 60, nbf: now() }))).message,
      "No credentials found for given 'iss'",
    )
    const good = await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now(), role: 'user' })
    const [h, , s] = good.split('.')
    const tampered = `${h}.${b64(JSON.stringify({ iss: 'alice-iss', exp: now() + 60, nbf: now(), role: 'admin' }))}.${s}`
    assert.equal((await refused(tampered)).message, 'Invalid signature')
    assert.equal((await refused(good.slice(0, good.lastIndexOf('.') + 1))).message, 'Invalid signature')
  })

  test('broken base64 in any segment', async () => {
    const good = await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() })
    const [h, p, s] = good.split('.') as [string, string, string]
    for (const broken of [
      `${h}!.${p}.${s}`,
      `${h}.${p}%.${s}`,
      `${h}.${p}.${s}*`,
      `${h}.${p}.${s}=`,
      `${h}.${p}`,
      `${h.slice(1)}.${p}.${s}`,
    ]) {
      assert.match(String((await refused(broken)).message), /^Bad token; invalid (JSON|alg)$/, broken)
    }
  })

  test('a 1 MB token: the header limit answers 431 by default; with room for it, the plugin refuses it unparsed', async () => {
    const huge = `${b64('{"alg":"HS256"}')}.${'A'.repeat(1024 * 1024)}.sig`
    const before = up.seen.length
    const r = await call(`${gw.url}/api`, { headers: { authorization: `Bearer ${huge}` } })
    assert.equal(r.status, 431)
    assert.equal(up.seen.length, before)
    const roomy = await gateway(config(up.url, 'http://127.0.0.1:9/none'), {
      server: { ...DEFAULT_SERVER_LIMITS, maxHeaderSize: 2 * 1024 * 1024 },
    })
    try {
      const r2 = await call(`${roomy.url}/api`, { headers: { authorization: `Bearer ${huge}` } })
      assert.equal(r2.status, 401)
      assert.equal((r2.json() as { message: string }).message, 'Bad token; too large')
      assert.equal(up.seen.length, before)
    } finally {
      await roomy.stop()
    }
  })

  test('a token revoked on one node is refused on a second node within 1 s (two gateways, one Redis)', async () => {
    const redisUrl = process.env.REDIS_URL
    assert.ok(redisUrl, 'REDIS_URL is set by npm test')
    const settings = { redisUrl, keyPrefix: `portico-test-${randomUUID()}:` }
    const a = await gateway(config(up.url, 'http://127.0.0.1:9/none'), settings)
    const b = await gateway(config(up.url, 'http://127.0.0.1:9/none'), settings)
    try {
      await nodeRevocations(a.services).peer!.ready()
      await nodeRevocations(b.services).peer!.ready()
      const token = await hs({ iss: 'alice-iss', exp: now() + 300, nbf: now() })
      const auth = { authorization: `Bearer ${token}` }
      assert.equal((await call(`${b.url}/api`, { headers: auth })).status, 200, 'valid on B before')
      const out = await call(`${a.url}/logout`, { method: 'POST', headers: auth })
      assert.equal(out.status, 200)
      assert.deepEqual(out.json(), { message: 'revoked' })
      const revokedAt = Date.now()
      assert.equal((await call(`${a.url}/api`, { headers: auth })).status, 401, 'refused on A at once')
      let status = 200
      while (status !== 401 && Date.now() - revokedAt < 1000) {
        status = (await call(`${b.url}/api`, { headers: auth })).status
        if (status !== 401) await sleep(10)
      }
      assert.equal(status, 401, 'refused on B within 1 s of the revocation on A')
      const before = up.seen.length
      const r = await call(`${b.url}/api`, { headers: auth })
      assert.equal((r.json() as { message: string }).message, 'Token revoked')
      assert.equal(up.seen.length, before)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})

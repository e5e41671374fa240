import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { DEFAULT_SERVER_LIMITS } from '../../src/data-plane/server.js'
import { nodeRevocations } from '../../src/plugins/jwt/revocation/node.js'
import type { RedisRevocationPeer } from '../../src/plugins/jwt/revocation/redis-peer.js'
import { forge } from '../../src/plugins/jwt/testing.js'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { jwtConsumers, SECRET } from '../fixtures/jwt-helpers.js'

type Node = Awaited<ReturnType<typeof gateway>>
const enc = (s: string) => new TextEncoder().encode(s)
const now = () => Math.floor(Date.now() / 1000)
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
const hs = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(enc(SECRET))

const rsa = await generateKeyPair('RS256', { extractable: true })
const attacker = await generateKeyPair('RS256', { extractable: true })
const rsaPem = await exportSPKI(rsa.publicKey)

const config = (up: string, jwksUri: string) => `
_format_version: "3.0"
${jwtConsumers(rsaPem, `      - { key: idp, algorithm: RS256, jwks_uri: "${jwksUri}" }\n`)}services:
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

describe('jwt attack catalogue: each refused with 401, the upstream called 0 times', () => {
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

  /** Sends the token and asserts a 401 and 0 upstream calls; returns the body. */
  async function refused(token: string, path = '/api', base = gw.url): Promise<Record<string, unknown>> {
    const before = up.seen.length
    const r = await call(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 401, r.text)
    assert.equal(up.seen.length - before, 0, 'upstream calls')
    return r.json() as Record<string, unknown>
  }
  async function accepted(token: string, path = '/api'): Promise<void> {
    const before = up.seen.length
    const r = await call(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(r.status, 200, r.text)
    assert.equal(up.seen.length - before, 1, 'upstream calls')
  }
  /**
   * Runs `check(t)` with `t` = now (s). A failure counts only when the wall clock stayed in that
   * second meanwhile (the gateway then read the same second the claims were computed from);
   * otherwise it runs again. The ±1 s edges are exact whatever the machine's load.
   */
  async function inOneSecond(check: (t: number) => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const t = now()
      try {
        return await check(t)
      } catch (err) {
        if (now() === t || attempt >= 5) throw err
      }
    }
  }

  test('baseline: the honest HS256 and RS256 tokens are accepted on the same routes', async () => {
    await accepted(await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() }))
    const t = await new SignJWT({ iss: 'bob-iss', exp: now() + 60, nbf: now() })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rsa.privateKey)
    await accepted(t)
  })

  test('alg: none (none, None, NONE, nOnE; unsigned)', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const body = await refused(
        forge({ alg, typ: 'JWT' }, { iss: 'alice-iss', exp: now() + 60, nbf: now() }, null),
      )
      assert.equal(body.message, 'Bad token; invalid alg')
    }
  })

  test('HS256 signed with the RSA public key of an RS256 credential (key confusion)', async () => {
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

  test('kid with a path or an SQL fragment (chooses no key)', async () => {
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

  test('a jku, x5u or embedded jwk header (never fetched, never the key)', async () => {
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

  test('expired', async () => {
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: now() - 1, nbf: now() })), {
      exp: 'token expired',
    })
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: now() - 3600, nbf: now() - 7200 })), {
      exp: 'token expired',
    })
  })

  test('nbf in the future', async () => {
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() + 60 })), {
      nbf: 'token not valid yet',
    })
  })

  // /skew has leeway: 30; the edges are exp + 30 > now and nbf - 30 <= now
  const L = 30

  test('leeway ± 1 s on exp: just inside accepted, just outside refused', async () => {
    await inOneSecond(async (t) => {
      await accepted(await hs({ iss: 'alice-iss', exp: t - L + 1, nbf: t }), '/skew')
    })
    await inOneSecond(async (t) => {
      assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: t - L - 1, nbf: t }), '/skew'), {
        exp: 'token expired',
      })
    })
    // the same token without leeway is refused
    await inOneSecond(async (t) => {
      await refused(await hs({ iss: 'alice-iss', exp: t - L + 1, nbf: t }))
    })
  })

  test('leeway ± 1 s on nbf: just inside accepted, just outside refused', async () => {
    await inOneSecond(async (t) => {
      await accepted(await hs({ iss: 'alice-iss', exp: t + 60, nbf: t + L - 1 }), '/skew')
    })
    await inOneSecond(async (t) => {
      assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: t + 60, nbf: t + L + 1 }), '/skew'), {
        nbf: 'token not valid yet',
      })
    })
    await inOneSecond(async (t) => {
      await refused(await hs({ iss: 'alice-iss', exp: t + 60, nbf: t + L - 1 }))
    })
  })

  test('wrong iss', async () => {
    for (const iss of ['mallory-iss', 'ALICE-ISS', 'alice-iss ', 'bob-iss']) {
      const body = await refused(await hs({ iss, exp: now() + 60, nbf: now() }))
      // bob-iss exists but is RS256: the HS256 token does not get that far
      assert.equal(
        body.message,
        iss === 'bob-iss' ? 'Invalid algorithm' : "No credentials found for given 'iss'",
      )
    }
    assert.equal(
      (await refused(await hs({ exp: now() + 60, nbf: now() }))).message,
      "No mandatory 'iss' in claims",
    )
  })

  test('missing exp when required', async () => {
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', nbf: now() })), { exp: 'must be a number' })
    assert.deepEqual(await refused(await hs({ iss: 'alice-iss', exp: `${now() + 60}`, nbf: now() })), {
      exp: 'must be a number',
    })
  })

  test('a 1 MB token (401 "too large" from the plugin, unparsed; 431 already at the default header limit)', async () => {
    const huge = `${b64('{"alg":"HS256"}')}.${'A'.repeat(1024 * 1024)}.sig`
    const before = up.seen.length
    const r = await call(`${gw.url}/api`, { headers: { authorization: `Bearer ${huge}` } })
    assert.equal(r.status, 431)
    assert.equal(up.seen.length - before, 0, 'upstream calls')
    const roomy = await gateway(config(up.url, 'http://127.0.0.1:9/none'), {
      server: { ...DEFAULT_SERVER_LIMITS, maxHeaderSize: 2 * 1024 * 1024 },
    })
    try {
      assert.equal((await refused(huge, '/api', roomy.url)).message, 'Bad token; too large')
    } finally {
      await roomy.stop()
    }
  })

  test('broken base64 (in any segment)', async () => {
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

  test('tampered claims, a stripped signature', async () => {
    const good = await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now(), role: 'user' })
    const [h, , s] = good.split('.')
    const tampered = `${h}.${b64(JSON.stringify({ iss: 'alice-iss', exp: now() + 60, nbf: now(), role: 'admin' }))}.${s}`
    assert.equal((await refused(tampered)).message, 'Invalid signature')
    assert.equal((await refused(good.slice(0, good.lastIndexOf('.') + 1))).message, 'Invalid signature')
  })

  test('a revoked token on a second node 1 s after revocation through the Admin API of the first (one Redis, no Redis call per request)', async () => {
    const redisUrl = process.env.REDIS_URL
    assert.ok(redisUrl, 'REDIS_URL is set by npm test')
    const settings = { redisUrl, keyPrefix: `portico-test-${randomUUID()}:` }
    const a = await gateway(config(up.url, 'http://127.0.0.1:9/none'), {
      ...settings,
      admin: { host: '127.0.0.1', port: 0 },
    })
    const b = await gateway(config(up.url, 'http://127.0.0.1:9/none'), settings)
    try {
      await nodeRevocations(a.services).peer!.ready()
      await nodeRevocations(b.services).peer!.ready()
      const token = await hs({
        iss: 'alice-iss',
        exp: now() + 300,
        nbf: now(),
        jti: `attack-${randomUUID()}`,
      })
      const auth = { authorization: `Bearer ${token}` }
      assert.equal((await call(`${b.url}/api`, { headers: auth })).status, 200, 'valid on node 2 before')

      // every command node 2 sends on its Redis connection from here on
      const client = b.services.redis().client
      const sent: string[] = []
      const send = client.sendCommand.bind(client)
      client.sendCommand = ((cmd: { name: string; args: unknown[] }, ...rest: unknown[]) => {
        sent.push(`${cmd.name} ${cmd.args.map(String).join(' ')}`)
        return (send as (...a: unknown[]) => unknown)(cmd, ...rest)
      }) as typeof client.sendCommand

      const revoke = await call(`http://127.0.0.1:${a.admin!.port}/jwt/revocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      })
      assert.equal(revoke.status, 201, revoke.text)
      assert.equal((revoke.json() as { propagated: boolean }).propagated, true, 'Redis has it')
      await sleep(1000)

      const before = up.seen.length
      const requests = 50
      sent.length = 0
      for (let i = 0; i < requests; i++) {
        const r = await call(`${b.url}/api`, { headers: auth })
        assert.equal(r.status, 401, r.text)
        assert.equal((r.json() as { message: string }).message, 'Token revoked')
      }
      assert.equal(up.seen.length - before, 0, 'upstream calls')
      // the periodic catch-up (one script call every few seconds) may fall in this window;
      // nothing else may: requests read the node's own revocation list
      const catchUp = `${settings.keyPrefix}{jwt:revocations}:seq`
      assert.deepEqual(
        sent.filter((c) => !c.includes(catchUp)),
        [],
        `no Redis call for ${requests} requests`,
      )
      // and the spy does see this node's commands: a catch-up is one script call
      const seenBefore = sent.length
      await (nodeRevocations(b.services).peer as RedisRevocationPeer).catchUp()
      assert.ok(
        sent.slice(seenBefore).some((c) => c.includes(catchUp)),
        'the catch-up was recorded',
      )
      assert.equal((await call(`${a.url}/api`, { headers: auth })).status, 401, 'refused on node 1 too')
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})

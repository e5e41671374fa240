import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { SignJWT } from 'jose'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

const OLD = 'alice-old-hs256-secret-0123456789abcdef'
const NEW = 'alice-new-hs256-secret-fedcba9876543210'
const now = () => Math.floor(Date.now() / 1000)
const sign = (secret: string, header: Record<string, unknown> = {}, iss = 'alice-iss') =>
  new SignJWT({ iss, exp: now() + 300 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(new TextEncoder().encode(secret))

const file = (secrets: string, more = '') => `
_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets:
${secrets}
  - username: bob
${more}
services:
  - name: s
    url: UPSTREAM
    routes:
      - name: api
        paths: [/api]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp] } }]
`
// before the rotation alice had one secret (no kid); the new one is added next to it with a kid
const OLD_SECRET = `      - { key: alice-iss, algorithm: HS256, secret: ${OLD} }`
const NEW_SECRET = `      - { key: alice-iss, algorithm: HS256, secret: ${NEW}, kid: "2025-02" }`

describe('jwt key rotation: several secrets per consumer under one key', () => {
  let up: Upstream
  before(async () => {
    up = await upstream('up')
  })
  after(() => up.close())

  async function status(base: string, token: string): Promise<{ status: number; message: unknown }> {
    const before = up.seen.length
    const r = await call(`${base}/api`, { headers: { authorization: `Bearer ${token}` } })
    if (r.status === 200) {
      assert.equal(up.seen.length, before + 1)
      assert.equal(up.seen.at(-1)!.headers['x-consumer-username'], 'alice')
    } else assert.equal(up.seen.length, before, 'a refused token reaches nothing')
    return { status: r.status, message: (r.json() as { message?: unknown }).message }
  }

  test('from a declarative file: tokens signed with either secret verify; after removing the old one only the new does', async () => {
    const gw = await gateway(file(`${OLD_SECRET}\n${NEW_SECRET}`).replace('UPSTREAM', up.url))
    try {
      const oldToken = await sign(OLD)
      const newToken = await sign(NEW, { kid: '2025-02' })
      assert.equal((await status(gw.url, oldToken)).status, 200, 'old secret, no kid')
      assert.equal((await status(gw.url, newToken)).status, 200, 'new secret, its kid')
      assert.equal(
        (await status(gw.url, await sign(NEW))).status,
        200,
        'new secret, no kid: every secret is tried',
      )
      assert.equal(
        (await status(gw.url, await sign(OLD, { kid: '2025-02' }))).status,
        200,
        'a kid only orders the secrets, it never refuses one that verifies',
      )
      assert.deepEqual(
        (await status(gw.url, await sign('neither-of-them-0123456789abcdefgh', { kid: '2025-02' }))).message,
        'Invalid signature',
      )

      // the rotation is over: the old secret leaves the file
      writeFileSync(gw.file!, file(NEW_SECRET).replace('UPSTREAM', up.url))
      assert.equal((await gw.reload()).ok, true)
      assert.deepEqual((await status(gw.url, oldToken)).message, 'Invalid signature')
      assert.equal((await status(gw.url, oldToken)).status, 401)
      assert.equal((await status(gw.url, newToken)).status, 200)
      assert.equal((await status(gw.url, await sign(NEW))).status, 200)
    } finally {
      await gw.stop()
    }
  })

  test('from a declarative file: one key on two consumers is refused (ambiguous), the running config stays', async () => {
    const gw = await gateway(file(NEW_SECRET).replace('UPSTREAM', up.url))
    try {
      const bobToo = `    jwt_secrets: [{ key: alice-iss, algorithm: HS256, secret: ${OLD} }]`
      writeFileSync(gw.file!, file(NEW_SECRET, bobToo).replace('UPSTREAM', up.url))
      const r = await gw.reload()
      assert.equal(r.ok, false)
      assert.deepEqual(!r.ok && r.issues.map((i) => i.path), ['consumers[1].jwt_secrets[0].key'])
      assert.match(!r.ok ? r.issues[0]!.message : '', /already declared for another consumer/)
      assert.equal((await status(gw.url, await sign(NEW))).status, 200, 'still serving the previous config')
      assert.equal((await status(gw.url, await sign(OLD))).status, 401)
    } finally {
      await gw.stop()
    }
  })

  describe('through the Admin API', () => {
    let a: AdminNode
    before(async () => {
      a = await adminNode({}, null, [])
      await a.req('POST', '/consumers', { username: 'alice' })
      await a.req('POST', '/consumers', { username: 'bob' })
      await a.req('POST', '/services', { name: 's', url: up.url })
      await a.req('POST', '/services/s/routes', { name: 'api', paths: ['/api'] })
      const p = await a.req('POST', '/routes/api/plugins', {
        name: 'jwt',
        config: { claims_to_verify: ['exp'] },
      })
      assert.equal(p.status, 201, p.text)
    })
    after(() => a.stop())

    test('POST /consumers/alice/jwt twice with the same key: both 201, tokens of either verify; DELETE the old, only the new verifies', async () => {
      const old = await a.req(
        'POST',
        '/consumers/alice/jwt',
        { key: 'alice-iss', secret: OLD },
        { form: true },
      )
      assert.equal(old.status, 201, old.text)
      assert.equal((await status(a.proxy, await sign(OLD))).status, 200)
      const fresh = await a.req('POST', '/consumers/alice/jwt', {
        key: 'alice-iss',
        secret: NEW,
        kid: '2025-02',
      })
      assert.equal(fresh.status, 201, fresh.text)
      assert.notEqual(fresh.body.id, old.body.id)
      assert.equal(fresh.body.kid, '2025-02')
      const listed = await a.req('GET', '/consumers/alice/jwt')
      assert.deepEqual(
        (listed.body.data as Array<{ key: string }>).map((s) => s.key),
        ['alice-iss', 'alice-iss'],
      )

      const oldToken = await sign(OLD)
      const newToken = await sign(NEW, { kid: '2025-02' })
      assert.equal((await status(a.proxy, oldToken)).status, 200)
      assert.equal((await status(a.proxy, newToken)).status, 200)

      // the same key on another consumer is ambiguous: 409, nothing changes
      const bob = await a.req('POST', '/consumers/bob/jwt', { key: 'alice-iss', secret: 'bob-secret' })
      assert.equal(bob.status, 409, bob.text)
      assert.deepEqual(bob.body.fields, { key: 'alice-iss' })
      // a kid names one secret under a key
      const twice = await a.req('POST', '/consumers/alice/jwt', {
        key: 'alice-iss',
        secret: 'x',
        kid: '2025-02',
      })
      assert.equal(twice.status, 409, twice.text)
      // moving one of alice's secrets to bob is the same ambiguity
      const moved = await a.req('PATCH', `/jwts/${String(old.body.id)}`, { consumer: { username: 'bob' } })
      assert.equal(moved.status, 409, moved.text)
      assert.equal((await status(a.proxy, oldToken)).status, 200, 'nothing changed')

      // the rotation is over: the old secret goes (by id: the key names both)
      assert.equal((await a.req('DELETE', `/consumers/alice/jwt/${String(old.body.id)}`)).status, 204)
      assert.deepEqual((await status(a.proxy, oldToken)).message, 'Invalid signature')
      assert.equal((await status(a.proxy, newToken)).status, 200)
      assert.equal((await status(a.proxy, await sign(NEW))).status, 200)
    })
  })
})

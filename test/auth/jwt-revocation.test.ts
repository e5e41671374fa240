import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { SignJWT } from 'jose'
import type { AdminRequest } from '../../src/core/admin.js'
import { plugin as jwtPlugin } from '../../src/plugins/jwt/plugin.js'
import { nodeRevocations } from '../../src/plugins/jwt/revocation/node.js'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { SECRET } from '../fixtures/jwt-helpers.js'

type Node = Awaited<ReturnType<typeof gateway>>
const now = () => Math.floor(Date.now() / 1000)
const token = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: 'alice-iss', exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET))
const config = (up: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets: [{ key: alice-iss, algorithm: HS256, secret: ${SECRET} }]
services:
  - name: s
    url: ${up}
    routes:
      - name: api
        paths: [/api, /logout]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp], logout_paths: [/logout] } }]
`
const req = (body: Record<string, unknown>, params: Record<string, string> = {}): AdminRequest => ({
  method: 'X',
  params,
  query: new URLSearchParams(),
  body,
})
function admin(node: Node, method: string, path: string) {
  return jwtPlugin.adminRoutes!(node.services).find((r) => r.method === method && r.path === path)!
}
async function status(node: Node, t: string): Promise<number> {
  return (await call(`${node.url}/api`, { headers: { authorization: `Bearer ${t}` } })).status
}
/** Polls until the node answers `want` or `ms` pass; returns the last status. */
async function until(node: Node, t: string, want: number, ms: number): Promise<number> {
  const start = Date.now()
  let s = await status(node, t)
  while (s !== want && Date.now() - start < ms) {
    await sleep(10)
    s = await status(node, t)
  }
  return s
}
async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => s.once('listening', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}
/** A private redis-server this test may stop and start again. */
async function ownRedis(port: number): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-'))
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  )
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy()
        r(true)
      })
      c.on('error', () => r(false))
    })
    if (ok) return child
    await sleep(20)
  }
  throw new Error('redis-server did not start')
}

describe('jwt revocation across nodes', () => {
  let up: Upstream
  before(async () => {
    up = await upstream('up')
  })
  after(() => up.close())

  describe('two nodes on one Redis', () => {
    const settings = { redisUrl: process.env.REDIS_URL, keyPrefix: `portico-test-${randomUUID()}:` }
    let a: Node
    let b: Node
    before(async () => {
      assert.ok(settings.redisUrl, 'REDIS_URL is set by npm test')
      a = await gateway(config(up.url), settings)
      b = await gateway(config(up.url), settings)
      await nodeRevocations(a.services).peer!.ready()
      await nodeRevocations(b.services).peer!.ready()
    })
    after(async () => {
      await a.stop()
      await b.stop()
    })

    test('an admin revocation on B is refused on A within 1 s; lifting it on A frees it on B', async () => {
      const t = await token({ jti: `j-${randomUUID()}` })
      assert.equal(await status(a, t), 200)
      const created = await admin(b, 'POST', '/jwt/revocations').handle(req({ token: t }))
      assert.equal(created.status, 201)
      assert.equal((created.body as { propagated: boolean }).propagated, true)
      assert.equal(await until(a, t, 401, 1000), 401)
      const id = (created.body as { id: string }).id
      assert.equal((await admin(a, 'GET', '/jwt/revocations/:id').handle(req({}, { id }))).status, 200)
      assert.equal((await admin(a, 'DELETE', '/jwt/revocations/:id').handle(req({}, { id }))).status, 204)
      assert.equal(await until(b, t, 200, 1000), 200)
      assert.equal((await admin(b, 'GET', '/jwt/revocations/:id').handle(req({}, { id }))).status, 404)
    })

    test('a change whose pub/sub message was lost reaches the node with the periodic catch-up', async () => {
      const t = await token({ jti: `lost-${randomUUID()}` })
      const id = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti as string
      assert.equal(await status(b, t), 200)
      // write the change the way the script does, but announce nothing
      const redis = new Redis(settings.redisUrl!)
      try {
        const base = `${settings.keyPrefix}{jwt:revocations}`
        const seq = await redis.incr(`${base}:seq`)
        await redis.zadd(base, now() + 300, id)
        await redis.zadd(`${base}:log`, seq, `${seq}|r|${now() + 300}|${id}`)
      } finally {
        redis.disconnect()
      }
      assert.equal(await status(b, t), 200, 'nothing announced: not known yet')
      assert.equal(await until(b, t, 401, 6000), 401, 'caught up within the catch-up period')
      assert.equal(await until(a, t, 401, 6000), 401)
    })

    test('a node started after the revocation has it as soon as it is ready', async () => {
      const t = await token()
      assert.equal(
        (await call(`${a.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${t}` } })).status,
        200,
      )
      const c = await gateway(config(up.url), settings)
      try {
        await nodeRevocations(c.services).peer!.ready()
        assert.equal(await status(c, t), 401)
      } finally {
        await c.stop()
      }
    })
  })

  test('without Redis revocation is node-local', async () => {
    const a = await gateway(config(up.url))
    const b = await gateway(config(up.url))
    try {
      const t = await token()
      const out = await call(`${a.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${t}` } })
      assert.equal(out.status, 200)
      assert.equal(await status(a, t), 401)
      assert.equal(await status(b, t), 200, 'the other node does not know')
      const created = await admin(a, 'POST', '/jwt/revocations').handle(req({ jti: 'x', exp: now() + 60 }))
      assert.equal((created.body as { propagated: boolean }).propagated, false)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  test('a Redis outage delays propagation but never loses a revocation; requests never wait on Redis', async () => {
    const port = await freePort()
    let redis = await ownRedis(port)
    const settings = { redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: 'portico-outage:' }
    const a = await gateway(config(up.url), settings)
    const b = await gateway(config(up.url), settings)
    try {
      await nodeRevocations(a.services).peer!.ready()
      await nodeRevocations(b.services).peer!.ready()
      const t = await token()
      redis.kill('SIGKILL')
      await new Promise((r) => redis.once('exit', r))
      // Redis is gone: the logout still works and A refuses at once; B (no Redis to hear from) still accepts
      assert.equal(
        (await call(`${a.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${t}` } })).status,
        200,
      )
      assert.equal(await status(a, t), 401)
      assert.equal(await status(b, t), 200)
      assert.equal(nodeRevocations(a.services).pending().length, 1, 'kept for retry')
      redis = await ownRedis(port)
      // reconnect (≤ 2 s) + the next catch-up (≤ 5 s) retries the write and B hears of it
      assert.equal(await until(b, t, 401, 9000), 401)
      assert.equal(nodeRevocations(a.services).pending().length, 0)
    } finally {
      await a.stop()
      await b.stop()
      redis.kill('SIGKILL')
    }
  })
})

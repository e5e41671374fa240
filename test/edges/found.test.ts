import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { get, RawClient } from '../fixtures/raw-http.js'

async function eventually(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(50)
  }
  return check()
}

describe('edges (found while verifying): registry health checks probe each instance its own path', () => {
  let a: AdminNode
  let one: Upstream
  let two: Upstream
  const healthy = (own: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const ok = req.url === own || !req.url?.startsWith('/health')
    res.writeHead(ok ? 200 : 503, { 'x-upstream': own })
    res.end(ok ? 'ok' : 'not my health path')
  }
  before(async () => {
    a = await adminNode({ status: { host: '127.0.0.1', port: 0 } })
    one = await upstream('one', healthy('/health-one'))
    two = await upstream('two', healthy('/health-two'))
  })
  after(async () => {
    await a.stop()
    await one.close()
    await two.close()
  })

  test('/health-one and /health-two: each probed on its own, both stay up, traffic reaches both', async () => {
    for (const [u, path] of [
      [one, '/health-one'],
      [two, '/health-two'],
    ] as const) {
      const r = await a.req('POST', '/registry/services/pair/instances', { url: u.url, health_path: path })
      assert.equal(r.status, 201)
    }
    // probes every 2 s, unhealthy after 2 failures: wait for two rounds on both
    const probes = (u: Upstream) => u.seen.filter((s) => s.url.startsWith('/health')).map((s) => s.url)
    assert.ok(await eventually(() => probes(one).length >= 2 && probes(two).length >= 2, 8000))
    assert.deepEqual([...new Set(probes(one))], ['/health-one'])
    assert.deepEqual([...new Set(probes(two))], ['/health-two'])
    const c = await RawClient.open(a.node.proxy.port)
    const answered = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const r = await c.request(get('/api/pair/x', 'gw.test'))
      assert.equal(r.status, 200)
      answered.add(r.headers['x-upstream']!)
    }
    c.close()
    assert.deepEqual([...answered].sort(), ['/health-one', '/health-two'])
  })
})

describe('edges (found while verifying): a key withdrawn from a JWKS stops verifying', () => {
  let up: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  let jwks: http.Server
  let served: unknown[] = []
  let cacheControl = 'max-age=1'
  let fetches = 0
  const pair = generateKeyPair('RS256', { extractable: true })
  before(async () => {
    up = await upstream('up')
    jwks = http.createServer((_req, res) => {
      fetches++
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl })
      res.end(JSON.stringify({ keys: served }))
    })
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`
    served = [{ ...(await exportJWK((await pair).publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }]
    gw = await gateway(`_format_version: "3.0"
consumers:
  - username: partner
    jwt_secrets: [{ key: idp, algorithm: RS256, jwks_uri: "${url}" }]
services:
  - name: s
    url: ${up.url}
    routes:
      - { name: honours, paths: [/a], plugins: [{ name: jwt }] }
      - { name: bounded, paths: [/b], plugins: [{ name: jwt, config: { jwks_max_age: 1 } }] }
`)
  })
  after(async () => {
    await gw.stop()
    await up.close()
    await new Promise((r) => jwks.close(r))
  })
  const token = async () =>
    new SignJWT({ iss: 'idp' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign((await pair).privateKey)

  async function withdrawn(path: string): Promise<void> {
    const t = await token()
    const c = await RawClient.open(gw.proxy.port)
    const bearer = `Authorization: Bearer ${t}`
    assert.ok(
      await eventually(async () => (await c.request(get(path, 'x.test', bearer))).status === 200, 3000),
    )
    const before = up.seen.length
    served = []
    // past the set's lifetime the next use fetches it again; then the key is gone
    assert.ok(
      await eventually(async () => (await c.request(get(path, 'x.test', bearer))).status === 401, 5000),
      'the withdrawn key stops verifying',
    )
    const after = up.seen.length
    assert.equal((await c.request(get(path, 'x.test', bearer))).status, 401, 'and stays refused')
    assert.equal(up.seen.length, after)
    assert.ok(after - before < 100)
    c.close()
  }

  test("Cache-Control: max-age=1 on the JWKS response is honoured (jwks_max_age's 600 s would not)", async () => {
    cacheControl = 'max-age=1'
    await withdrawn('/a')
    assert.ok(fetches >= 2)
  })

  test('a JWKS that says max-age=3600 is still fetched again after jwks_max_age', async () => {
    served = [{ ...(await exportJWK((await pair).publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }]
    cacheControl = 'max-age=3600'
    await withdrawn('/b')
  })
})

describe('edges (found while verifying): trace_id for answers the gateway gives itself', () => {
  let up: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  const file = join(tmpdir(), `portico-edges-${process.pid}-${Date.now()}.log`)
  before(async () => {
    up = await upstream('up')
    gw = await gateway(
      `_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - { name: cached, paths: [/c], plugins: [{ name: proxy-cache, config: { strategy: memory } }] }
`,
      { accessLog: file },
    )
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test('a cache hit and a 404 carrying a traceparent log its trace id', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736'
    const tp = `traceparent: 00-${trace}-00f067aa0ba902b7-01`
    const c = await RawClient.open(gw.proxy.port)
    assert.equal((await c.request(get('/c/t', 'x.test', tp))).headers['x-cache-status'], 'Miss')
    assert.equal((await c.request(get('/c/t', 'x.test', tp))).headers['x-cache-status'], 'Hit')
    assert.equal((await c.request(get('/nowhere', 'x.test', tp))).status, 404)
    assert.equal((await c.request(get('/nowhere', 'x.test'))).status, 404)
    c.close()
    assert.equal(up.seen.length, 1)
    assert.ok(up.seen[0]!.headers.traceparent?.includes(trace))
    type Line = { path: string; status: number; cache: string | null; trace_id: string | null }
    const lines = async () =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Line)
    assert.ok(await eventually(async () => (await lines().catch(() => [])).length === 4, 3000))
    const got = (await lines()).map((l) => [l.path, l.status, l.cache, l.trace_id])
    assert.deepEqual(got, [
      ['/c/t', 200, 'Miss', trace],
      ['/c/t', 200, 'Hit', trace],
      ['/nowhere', 404, null, trace],
      ['/nowhere', 404, null, null],
    ])
  })
})

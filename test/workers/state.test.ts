import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { admin, burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 3 of "one node on every core": state that is the node's, not a worker's: upstream
// health (passive and active), request-queue local concurrency, the service registry, JWT
// revocations and proxy-cache purges and miss collapsing (memory strategy).

interface Health {
  upstreams: Array<{ name: string; targets: Array<{ target: string; health: string }> }>
}

/** What `k` /healthz answers on new connections (spread over the workers) say of `target`. */
async function healthOf(node: WorkerNode, target: string, k: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < k; i++) {
    const h = JSON.parse((await get(node.status, '/healthz')).body) as Health
    for (const u of h.upstreams) for (const t of u.targets) if (t.target === target) out.push(t.health)
  }
  return out
}

for (const n of [2, 4]) {
  describe(`${n} workers: node-wide state`, () => {
    let good: Upstream
    let flaky: Upstream
    let probed: Upstream
    let slow: Upstream
    let manualA: Upstream
    let manualB: Upstream
    let node: WorkerNode
    let inFlight = 0
    let maxInFlight = 0
    let fills = 0
    const probeAt: number[] = []

    before(async () => {
      good = await upstream('good')
      flaky = await upstream('flaky', (_req, res) => {
        res.writeHead(500)
        res.end('no')
      })
      probed = await upstream('probed', (req, res) => {
        if (req.url === '/health') probeAt.push(Date.now())
        res.end('ok')
      })
      slow = await upstream('slow', (req, res) => {
        if (req.url?.startsWith('/cached')) {
          fills++
          const body = `fill ${fills}`
          setTimeout(() => {
            res.writeHead(200, { 'content-type': 'text/plain' })
            res.end(body)
          }, 400)
          return
        }
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        setTimeout(() => {
          inFlight--
          res.end('done')
        }, 150)
      })
      manualA = await upstream('manual-a')
      manualB = await upstream('manual-b')
      node = await startWorkers(
        n,
        `_format_version: "3.0"
upstreams:
  - name: passive.up
    healthchecks:
      passive:
        unhealthy: { http_failures: 1, http_statuses: [500] }
    targets:
      - { target: 127.0.0.1:${flaky.port} }
      - { target: 127.0.0.1:${good.port} }
  - name: active.up
    healthchecks:
      active:
        http_path: /health
        healthy: { interval: 0.2, successes: 1 }
        unhealthy: { interval: 0.2, http_failures: 1 }
    targets:
      - { target: 127.0.0.1:${probed.port} }
  - name: manual.up
    healthchecks:
      passive:
        unhealthy: { tcp_failures: 1 }
    targets:
      - { target: 127.0.0.1:${manualA.port} }
      - { target: 127.0.0.1:${manualB.port} }
services:
  - name: passive
    host: passive.up
    routes: [{ name: passive, paths: [/passive] }]
  - name: active
    host: active.up
    routes: [{ name: active, paths: [/active] }]
  - name: manual
    host: manual.up
    routes: [{ name: manual, paths: [/manual] }]
  - name: slow
    url: ${slow.url}
    routes:
      - name: queued
        paths: [/queued]
        plugins: [{ name: request-queue, config: { concurrency: 1, queue_size: 50, max_wait_ms: 30000 } }]
      - name: cached
        paths: [/cached]
        strip_path: false
        plugins: [{ name: proxy-cache, config: { strategy: memory, cache_ttl: 300 } }]
      - name: secured
        paths: [/secured]
        plugins: [{ name: jwt }]
consumers:
  - username: alice
    jwt_secrets: [{ key: alice-iss, algorithm: HS256, secret: alice-hs256-demo-secret-0123456789abcdef }]
`,
        { args: ['--admin-allowed-upstreams', '127.0.0.1'] },
      )
    })
    after(async () => {
      await node?.stop()
      await Promise.all([good, flaky, probed, slow, manualA, manualB].map((u) => u?.close()))
    })

    test('a target one worker found failing is unhealthy in every worker', async () => {
      const target = `127.0.0.1:${flaky.port}`
      assert.ok((await healthOf(node, target, 2 * n)).every((h) => h === 'HEALTHY'))
      // requests until one reaches the failing target: that worker takes it out, and tells the node
      for (let i = 0; i < 20 && flaky.seen.length === 0; i++) await get(node.proxy, '/passive')
      assert.equal(flaky.seen.length, 1)
      await sleep(300)
      assert.deepEqual(await healthOf(node, target, 3 * n), new Array(3 * n).fill('UNHEALTHY'))
      const after = await burst(4 * n, 2, () => get(node.proxy, '/passive'))
      assert.deepEqual(after, new Array(4 * n).fill(200))
      assert.equal(flaky.seen.length, 1, 'no worker sends to it any more')
    })

    test('a target set unhealthy through the Admin API takes no traffic in any worker until set healthy', async () => {
      const target = `127.0.0.1:${manualA.port}`
      const set = (verdict: string) => admin(node, 'PUT', `/upstreams/manual.up/targets/${target}/${verdict}`)
      assert.equal((await set('unhealthy')).status, 204)
      await sleep(300)
      assert.deepEqual(await healthOf(node, target, 3 * n), new Array(3 * n).fill('UNHEALTHY'))
      const seen = manualA.seen.length
      const statuses = await burst(4 * n, 2, () => get(node.proxy, '/manual'))
      assert.deepEqual(statuses, new Array(4 * n).fill(200))
      assert.equal(manualA.seen.length, seen, 'no worker sends to it')
      assert.equal((await set('healthy')).status, 204)
      await sleep(300)
      assert.deepEqual(await healthOf(node, target, 3 * n), new Array(3 * n).fill('HEALTHY'))
      await burst(4 * n, 2, () => get(node.proxy, '/manual'))
      assert.ok(manualA.seen.length > seen, 'it takes traffic again')
    })

    test('active checks run once per node, not once per worker', async () => {
      const from = probeAt.length
      const started = Date.now()
      await sleep(2000)
      const window = Date.now() - started
      const probes = probeAt.length - from
      // one prober every 200 ms sends about window / 200; n of them n times that. A loaded
      // machine only delays timers (fewer probes), so the bound cannot fail for slowness.
      assert.ok(probes > 0, 'someone probes')
      assert.ok(probes <= Math.ceil(window / 200) + 2, `${probes} probes in ${window} ms from ${n} workers`)
    })

    test('request-queue local concurrency holds for the node: one upstream request at a time', async () => {
      maxInFlight = 0
      const statuses = await burst(3 * n, 3 * n, () => get(node.proxy, '/queued'))
      assert.deepEqual(statuses, new Array(3 * n).fill(200))
      assert.equal(maxInFlight, 1)
    })

    test('a service registered on one worker is routed by every worker', async () => {
      const r = await admin(node, 'POST', '/registry/services/users/instances', { url: good.url, ttl: 60 })
      assert.equal(r.status, 201, r.body)
      const end = Date.now() + 5000
      let statuses: number[] = []
      while (Date.now() < end) {
        statuses = await burst(2 * n, 2, () => get(node.proxy, '/api/users/x'))
        if (statuses.every((s) => s === 200)) break
        await sleep(100)
      }
      assert.deepEqual(statuses, new Array(2 * n).fill(200))
    })

    test('a JWT revoked through one worker is refused by every worker when the call returns', async () => {
      const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
      const { createHmac } = await import('node:crypto')
      const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ iss: 'alice-iss', jti: `j-${n}`, exp: 4102444800 }))}`
      const token = `${input}.${b64(createHmac('sha256', 'alice-hs256-demo-secret-0123456789abcdef').update(input).digest())}`
      const auth = { authorization: `Bearer ${token}` }
      assert.deepEqual(
        await burst(2 * n, 2, () => get(node.proxy, '/secured', { headers: auth })),
        new Array(2 * n).fill(200),
      )
      const r = await admin(node, 'POST', '/jwt/revocations', { jti: `j-${n}` })
      assert.equal(r.status, 201, r.body)
      assert.equal((JSON.parse(r.body) as { propagated: boolean }).propagated, true)
      assert.deepEqual(
        await burst(3 * n, 3, () => get(node.proxy, '/secured', { headers: auth })),
        new Array(3 * n).fill(401),
      )
    })

    test('concurrent misses for one key: one upstream request for the node; a purge reaches every worker', async () => {
      fills = 0
      const first = await Promise.all(Array.from({ length: 4 * n }, () => get(node.proxy, '/cached/a')))
      assert.ok(
        first.every((a) => a.status === 200 && a.body === 'fill 1'),
        JSON.stringify(first.map((a) => a.body)),
      )
      assert.equal(fills, 1)
      const purged = await admin(node, 'DELETE', '/proxy-cache')
      assert.equal(purged.status, 204, purged.body)
      // no worker answers from the entry the purge dropped
      const again = await Promise.all(Array.from({ length: 4 * n }, () => get(node.proxy, '/cached/a')))
      assert.ok(
        again.every((a) => a.body !== 'fill 1'),
        JSON.stringify(again.map((a) => a.body)),
      )
      assert.equal(fills, 2)
    })

    test('an entry one worker stored is a hit on every worker (Kong: a second GET is a hit)', async () => {
      fills = 0
      const first = await get(node.proxy, '/cached/b')
      assert.equal(first.headers['x-cache-status'], 'Miss')
      // one after the other on new connections: the workers take turns
      const later: string[] = []
      for (let i = 0; i < 2 * n; i++)
        later.push(String((await get(node.proxy, '/cached/b')).headers['x-cache-status']))
      assert.deepEqual(later, new Array(2 * n).fill('Hit'))
      assert.equal(fills, 1)
    })
  })
}

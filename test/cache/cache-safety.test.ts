import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { cacheGateway, cachePlugin, type Node, STRATEGIES } from '../fixtures/cache-helpers.js'
import { call, raw, type Upstream, upstream } from '../fixtures/helpers.js'
import { testPlugin } from '../fixtures/plugins.js'

// Test data: an "auth plugin" that authenticates whoever `X-Test-Consumer` names (priority
// above proxy-cache's, as every real auth plugin's is).
const testAuth = testPlugin('test-auth', 1000, () => ({
  access(ctx) {
    const who = ctx.header('x-test-consumer')
    if (who === undefined) return { status: 401, body: { message: 'Unauthorized' } }
    ctx.consumer = { id: `consumer-${who}`, username: who }
    ctx.setUpstreamHeader('x-consumer-username', who)
    return undefined
  },
}))

for (const strategy of STRATEGIES) {
  describe(`cache safety (${strategy})`, () => {
    let up: Upstream
    let gw: Node
    let trusting: Node
    before(async () => {
      // the upstream reflects what could poison a shared cache: X-Forwarded-Host, the consumer,
      // a request body, and answers 5xx on /fail/<status>
      up = await upstream('up', (req, res, body) => {
        const path = new URL(req.url!, 'http://x').pathname
        if (path.startsWith('/fail/')) {
          res.writeHead(Number(path.slice(6)), { 'content-type': 'application/json' })
          return res.end(JSON.stringify({ failed: up.seen.length }))
        }
        const type = path.endsWith('.css') ? 'text/css' : 'application/json'
        res.writeHead(200, { 'content-type': type })
        res.end(
          JSON.stringify({
            n: up.seen.length,
            link: `https://${req.headers['x-forwarded-host']}/next`,
            user: req.headers['x-consumer-username'] ?? null,
            body: body.toString(),
          }),
        )
      })
      const config = `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: public
        paths: [/public]
        plugins: [${cachePlugin(strategy)}]
      - name: fail
        paths: [/fail]
        strip_path: false
        plugins: [${cachePlugin(strategy)}]
      - name: account
        paths: [/account]
        strip_path: false
        plugins:
          - { name: test-auth }
          - ${cachePlugin(strategy, 'content_type: [text/css, application/json]')}
      - name: shared-account
        paths: [/shared-account]
        strip_path: false
        plugins:
          - { name: test-auth }
          - ${cachePlugin(strategy, 'content_type: [text/css], key_includes_consumer: false')}
`
      gw = await cacheGateway(config, strategy, { plugins: [testAuth] })
      // a node behind a trusted load balancer: X-Forwarded-Host from the peer reaches the upstream
      trusting = await cacheGateway(config, strategy, {
        plugins: [testAuth],
        settings: { trustedIps: '127.0.0.1' },
      })
    })
    after(async () => {
      await Promise.all([gw.stop(), trusting.stop()])
      await up.close()
    })

    for (const [name, node] of [
      ['untrusted peer', () => gw],
      ['trusted proxy', () => trusting],
    ] as const) {
      test(`an X-Forwarded-Host reflected by the upstream never reaches another client (${name})`, async () => {
        const path = `/public/reflect-${name.replace(' ', '-')}`
        const evil = await call(`${node().url}${path}`, { headers: { 'x-forwarded-host': 'evil.example' } })
        assert.equal(evil.status, 200)
        for (let i = 0; i < 3; i++) {
          const victim = await call(`${node().url}${path}`)
          assert.doesNotMatch(victim.text, /evil\.example/)
        }
        const again = await call(`${node().url}${path}`, { headers: { 'x-forwarded-host': 'evil.example' } })
        if (name === 'trusted proxy') {
          assert.match(evil.text, /evil\.example/, 'the upstream did reflect it')
          assert.equal(
            again.headers['x-cache-status'],
            'Hit',
            'only requests with that header share that entry',
          )
        }
      })
    }

    test('5xx responses are never stored', async () => {
      for (const status of [500, 502, 503]) {
        const before = up.seen.length
        const a = await call(`${gw.url}/fail/${status}`)
        const b = await call(`${gw.url}/fail/${status}`)
        assert.equal(a.status, status)
        assert.deepEqual([a.headers['x-cache-status'], b.headers['x-cache-status']], ['Bypass', 'Bypass'])
        assert.equal(up.seen.length - before, 2)
      }
    })

    test('a response to a malformed request (a GET with a body) is never stored', async () => {
      const smuggled = await raw(
        gw.proxy.port,
        'GET /public/fat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 9\r\nConnection: close\r\n\r\nsmuggled!',
      )
      assert.match(smuggled, /x-cache-status: Bypass/i)
      const clean = await call(`${gw.url}/public/fat`)
      assert.equal(clean.headers['x-cache-status'], 'Miss')
      assert.doesNotMatch(clean.text, /smuggled/)
      assert.equal((await call(`${gw.url}/public/fat`)).headers['x-cache-status'], 'Hit')
    })

    test('an authenticated route keys each consumer apart: /account/x.css is never shared', async () => {
      const alice1 = await call(`${gw.url}/account/x.css`, { headers: { 'x-test-consumer': 'alice' } })
      const bob1 = await call(`${gw.url}/account/x.css`, { headers: { 'x-test-consumer': 'bob' } })
      const alice2 = await call(`${gw.url}/account/x.css`, { headers: { 'x-test-consumer': 'alice' } })
      const bob2 = await call(`${gw.url}/account/x.css`, { headers: { 'x-test-consumer': 'bob' } })
      assert.deepEqual(
        [alice1, bob1, alice2, bob2].map((r) => r.headers['x-cache-status']),
        ['Miss', 'Miss', 'Hit', 'Hit'],
      )
      assert.equal((alice2.json() as { user: string }).user, 'alice')
      assert.equal((bob2.json() as { user: string }).user, 'bob')
      assert.notEqual(alice2.headers['x-cache-key'], bob2.headers['x-cache-key'])
    })

    test('key_includes_consumer: false — authenticated responses are never stored', async () => {
      const before = up.seen.length
      for (const who of ['alice', 'bob', 'alice']) {
        const r = await call(`${gw.url}/shared-account/y.css`, { headers: { 'x-test-consumer': who } })
        assert.equal(r.headers['x-cache-status'], 'Bypass')
        assert.equal((r.json() as { user: string }).user, who)
      }
      assert.equal(up.seen.length - before, 3)
    })

    test('an Authorization header on a route without authentication: never stored', async () => {
      const before = up.seen.length
      for (const token of ['Bearer a', 'Bearer b']) {
        const r = await call(`${gw.url}/public/private-api`, { headers: { authorization: token } })
        assert.equal(r.headers['x-cache-status'], 'Bypass')
      }
      assert.equal((await call(`${gw.url}/public/private-api`)).headers['x-cache-status'], 'Miss')
      assert.equal(up.seen.length - before, 3)
    })
  })
}

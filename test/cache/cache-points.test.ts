import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import {
  cacheGateway,
  cachePlugin,
  eventually,
  type Node,
  REDIS_URL,
  STRATEGIES,
  status,
} from '../fixtures/cache-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

// Points of the proxy-cache contract the other cache tests leave out: Host in the key, Kong's
// default 301, the byte budget of the in-process LRU, request_method, and purges sent to the
// real Admin API listener of one node reaching the other node.

const PLUGIN_LRU = '5a5a5a5a-0000-4000-8000-0000000000a1'

for (const strategy of STRATEGIES) {
  describe(`proxy-cache contract points (${strategy})`, () => {
    const prefix = `t${randomUUID().slice(0, 8)}:`
    let up: Upstream
    let a: Node
    let b: Node
    before(async () => {
      up = await upstream('up', (req, res) => {
        const path = new URL(req.url!, 'http://x').pathname
        const status = path.startsWith('/moved') ? 301 : path.startsWith('/found') ? 302 : 200
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (status !== 200) headers.location = '/elsewhere'
        res.writeHead(status, headers)
        // /lru pages are ~1 kB, so a 4 kB budget holds two of them
        const pad = path.startsWith('/lru') ? 'x'.repeat(1000) : ''
        res.end(JSON.stringify({ n: up.seen.length, host: req.headers['x-forwarded-host'], pad }))
      })
      const config = `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: c
        paths: [/c]
        plugins: [${cachePlugin(strategy)}]
      - name: lru
        paths: [/lru]
        strip_path: false
        plugins: [{ id: ${PLUGIN_LRU}, name: proxy-cache, config: { strategy: ${strategy}, memory_budget_bytes: 4000, memory: { dictionary_name: lru-test } } }]
      - name: get-only
        paths: [/get-only]
        plugins: [${cachePlugin(strategy, 'request_method: [GET]')}]
`
      // two nodes with an Admin API each; with the memory strategy they share only a Redis for
      // purge notices
      const settings = {
        redisUrl: REDIS_URL,
        keyPrefix: prefix,
        redisDeadlineMs: 500,
        admin: { host: '127.0.0.1', port: 0 },
      }
      ;[a, b] = await Promise.all([0, 1].map(() => cacheGateway(config, strategy, { prefix, settings })))
    })
    after(async () => {
      await Promise.all([a.stop(), b.stop()])
      await up.close()
    })

    const adminCall = (node: Node, method: string, path: string) =>
      call(`http://127.0.0.1:${node.admin!.port}${path}`, { method })

    test('the Host is part of the key', async () => {
      const before = up.seen.length
      const one = await call(`${a.url}/c/h`, { headers: { host: 'one.example' } })
      const two = await call(`${a.url}/c/h`, { headers: { host: 'two.example' } })
      const oneAgain = await call(`${a.url}/c/h`, { headers: { host: 'one.example' } })
      assert.deepEqual(
        [one, two, oneAgain].map((r) => r.headers['x-cache-status']),
        ['Miss', 'Miss', 'Hit'],
      )
      assert.notEqual(one.headers['x-cache-key'], two.headers['x-cache-key'])
      assert.equal(up.seen.length - before, 2)
    })

    test('Kong’s default response_code [200, 301, 404]: a 301 is stored, a 302 is not', async () => {
      const moved = [await call(`${a.url}/c/moved`), await call(`${a.url}/c/moved`)]
      assert.deepEqual(
        moved.map((r) => [r.status, r.headers['x-cache-status']]),
        [
          [301, 'Miss'],
          [301, 'Hit'],
        ],
      )
      assert.equal(moved[1]!.headers.location, '/elsewhere')
      const found = [await call(`${a.url}/c/found`), await call(`${a.url}/c/found`)]
      assert.deepEqual(
        found.map((r) => r.headers['x-cache-status']),
        ['Bypass', 'Bypass'],
      )
    })

    test('request_method: a method left out is never cached (HEAD with request_method [GET])', async () => {
      await call(`${a.url}/get-only/x`)
      assert.equal((await call(`${a.url}/get-only/x`)).headers['x-cache-status'], 'Hit')
      const head = await call(`${a.url}/get-only/x`, { method: 'HEAD' })
      assert.equal(head.headers['x-cache-status'], 'Bypass')
    })

    test('memory_budget_bytes: the in-process LRU stays within its bytes and evicts the least recently used', async () => {
      for (const p of ['/lru/a', '/lru/b']) await call(`${a.url}${p}`)
      assert.equal((await call(`${a.url}/lru/a`)).headers['x-cache-status'], 'Hit') // a is now the most recent
      await call(`${a.url}/lru/c`) // stored: b, the least recently used, makes room
      const z = await status(a, '/cachez')
      const inst = (z.instances as Array<Record<string, unknown>>).find((i) => i.id === PLUGIN_LRU)!
      const mem = inst.memory as { entries: number; bytes: number; budget_bytes: number }
      assert.equal(mem.budget_bytes, 4000)
      assert.ok(mem.bytes <= 4000, JSON.stringify(mem))
      assert.equal(mem.entries, 2)
      assert.equal((await call(`${a.url}/lru/a`)).headers['x-cache-status'], 'Hit')
      // memory: b is gone; redis: only the in-process copy was evicted, Redis still has it
      assert.equal(
        (await call(`${a.url}/lru/b`)).headers['x-cache-status'],
        strategy === 'memory' ? 'Miss' : 'Hit',
      )
    })

    test('purge through the Admin API listener: GET, DELETE one key, DELETE all, on every node', async () => {
      await call(`${a.url}/c/admin-1`)
      const hitA = await call(`${a.url}/c/admin-1`)
      await call(`${b.url}/c/admin-1`)
      assert.equal((await call(`${b.url}/c/admin-1`)).headers['x-cache-status'], 'Hit')
      const key = String(hitA.headers['x-cache-key'])

      const shown = await adminCall(a, 'GET', `/proxy-cache/${key}`)
      assert.equal(shown.status, 200)
      assert.equal((shown.json() as { key: string }).key, key)
      assert.equal((await adminCall(a, 'DELETE', `/proxy-cache/${key}`)).status, 204)
      for (const node of [a, b]) {
        assert.ok(
          await eventually(async () => (await adminCall(node, 'GET', `/proxy-cache/${key}`)).status === 404),
          'gone from every node',
        )
      }
      assert.equal((await call(`${b.url}/c/admin-1`)).headers['x-cache-status'], 'Miss')
      assert.deepEqual((await adminCall(a, 'GET', `/proxy-cache/${key}x`)).json(), { message: 'Not found' })

      const key2 = String((await call(`${a.url}/c/admin-2`)).headers['x-cache-key'])
      await call(`${b.url}/c/admin-2`)
      assert.equal((await adminCall(a, 'GET', `/proxy-cache/${key2}`)).status, 200)
      assert.equal((await adminCall(b, 'DELETE', '/proxy-cache')).status, 204)
      for (const node of [a, b]) {
        assert.ok(
          await eventually(async () => (await adminCall(node, 'GET', `/proxy-cache/${key2}`)).status === 404),
        )
      }
      assert.equal((await call(`${a.url}/c/admin-2`)).headers['x-cache-status'], 'Miss')
    })
  })
}

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { CACHE_STATUS } from '../../src/plugins/proxy-cache/state.js'
import {
  admin,
  cacheGateway,
  cachePlugin,
  eventually,
  type Node,
  STRATEGIES,
  type Strategy,
  sleep,
} from '../fixtures/cache-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

type Mode = 'ok' | '500' | 'reset' | 'hang'

/** An upstream whose behaviour the test switches: answer (after 50 ms), 500, reset, or hang. */
async function switchable(): Promise<Upstream & { mode: Mode }> {
  const state = { mode: 'ok' as Mode }
  const up = await upstream('up', (req, res) => {
    const n = up.seen.length
    switch (state.mode) {
      case '500':
        res.writeHead(500, { 'content-type': 'application/json' })
        return res.end('{"error":"boom"}')
      case 'reset':
        return req.socket.destroy()
      case 'hang':
        return
      default:
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ n }))
        }, 50)
    }
  })
  // an accessor, so the handler above sees every switch
  return Object.defineProperty(up, 'mode', {
    get: () => state.mode,
    set: (m: Mode) => {
      state.mode = m
    },
  }) as Upstream & { mode: Mode }
}

const config = (url: string, strategy: Strategy) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    read_timeout: 300
    retries: 0
    routes:
      - name: swr
        paths: [/swr]
        plugins: [${cachePlugin(strategy, 'cache_ttl: 1, stale_while_revalidate: 30')}]
      - name: sie
        paths: [/sie]
        plugins: [${cachePlugin(strategy, 'cache_ttl: 1, stale_if_error: 60')}]
      - name: brief
        paths: [/brief]
        plugins: [${cachePlugin(strategy, 'cache_ttl: 1, stale_if_error: 1')}]
`

const body = (r: { text: string }) => (JSON.parse(r.text) as { n: number }).n

for (const strategy of STRATEGIES) {
  describe(`stale serving (${strategy})`, () => {
    let up: Upstream & { mode: Mode }
    let nodes: Node[]
    const prefix = `t${randomUUID().slice(0, 8)}:`
    const count = (path: string) => up.seen.filter((s) => s.url === path).length
    before(async () => {
      up = await switchable()
      // redis: three nodes share the entries; memory: one node
      const n = strategy === 'redis' ? 3 : 1
      nodes = await Promise.all(
        Array.from({ length: n }, () => cacheGateway(config(up.url, strategy), strategy, { prefix })),
      )
    })
    after(async () => {
      await Promise.all(nodes.map((n) => n.stop()))
      await up.close()
    })

    test('stale_while_revalidate: stale answers at once, one background refresh, then the fresh entry', async () => {
      const first = await call(`${nodes[0]!.url}/swr/a`)
      for (const n of nodes) assert.equal((await call(`${n.url}/swr/a`)).headers['x-cache-status'], 'Hit')
      await sleep(1100)
      const stale = await Promise.all(
        Array.from({ length: 30 }, (_, i) => call(`${nodes[i % nodes.length]!.url}/swr/a`)),
      )
      // every answer is a hit: the stale entry, or (the refresh may land while the burst is still
      // arriving) the refreshed one; never a wait for the upstream
      assert.ok(stale.every((r) => r.headers['x-cache-status'] === 'Hit'))
      const old = stale.filter((r) => body(r) === body(first))
      assert.ok(old.length > 0, 'the first ones get the stale entry')
      assert.ok(old.every((r) => Number(r.headers.age) >= 1))
      assert.ok(new Set(stale.filter((r) => body(r) !== body(first)).map(body)).size <= 1)
      assert.ok(await eventually(() => count('/a') === 2), 'the refresh reached the upstream')
      await sleep(300)
      assert.equal(count('/a'), 2, 'exactly one refresh')
      const fresh = await eventually(async () => body(await call(`${nodes[0]!.url}/swr/a`)) !== body(first))
      assert.ok(fresh, 'the refreshed entry is served')
      assert.equal((await call(`${nodes.at(-1)!.url}/swr/a`)).headers['x-cache-status'], 'Hit')
      assert.equal(count('/a'), 2)
    })

    test('stale_if_error: a 5xx, a reset connection or a timeout is answered with the stale entry', async () => {
      const first = await call(`${nodes[0]!.url}/sie/b`)
      await sleep(1100)
      for (const mode of ['500', 'reset', 'hang'] as const) {
        up.mode = mode
        const r = await call(`${nodes.at(-1)!.url}/sie/b`)
        assert.equal(r.status, 200, mode)
        assert.equal(r.headers['x-cache-status'], 'Hit', mode)
        assert.equal(r.text, first.text, mode)
        assert.equal(r.headers['content-length'], String(Buffer.byteLength(first.text)))
      }
      up.mode = 'ok'
      const recovered = await call(`${nodes[0]!.url}/sie/b`)
      assert.equal(recovered.headers['x-cache-status'], 'Refresh')
      assert.notEqual(recovered.text, first.text)
    })

    test('stale_if_error: concurrent requests during an outage all get the stale entry', async () => {
      const first = await call(`${nodes[0]!.url}/sie/c`)
      await sleep(1100)
      up.mode = '500'
      try {
        const all = await Promise.all(
          Array.from({ length: 20 }, (_, i) => call(`${nodes[i % nodes.length]!.url}/sie/c`)),
        )
        assert.ok(all.every((r) => r.status === 200 && r.text === first.text))
      } finally {
        up.mode = 'ok'
      }
    })

    test('stale_if_error: past its window, the failure goes through', async () => {
      await call(`${nodes[0]!.url}/brief/d`)
      await sleep(2200)
      up.mode = '500'
      try {
        const r = await call(`${nodes[0]!.url}/brief/d`)
        assert.equal(r.status, 500)
      } finally {
        up.mode = 'ok'
      }
    })
  })
}

for (const strategy of STRATEGIES) {
  describe(`a background refresh is not a client request (${strategy})`, () => {
    let up: Upstream & { mode: Mode }
    let gw: Node
    const seen: string[] = []
    before(async () => {
      up = await switchable()
      gw = await cacheGateway(
        `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: limited
        paths: [/limited]
        plugins:
          - { name: rate-limiting, config: { day: 3, policy: local, limit_by: ip } }
          - ${cachePlugin(strategy, 'cache_ttl: 1, stale_while_revalidate: 30')}
      - name: plain
        paths: [/plain]
        plugins: [${cachePlugin(strategy, 'cache_ttl: 1, stale_while_revalidate: 30')}]
`,
        strategy,
      )
      gw.gateway.observers.push((ctx) => seen.push(`${ctx.method} ${ctx.path} ${ctx.get(CACHE_STATUS)}`))
    })
    after(async () => {
      await gw.stop()
      await up.close()
    })

    test('it neither uses up the client’s rate limit nor shows in the node’s request counts', async () => {
      const first = await call(`${gw.url}/limited/a`)
      assert.equal(first.headers['x-cache-status'], 'Miss')
      await sleep(1100)
      const stale = await call(`${gw.url}/limited/a`)
      assert.equal(stale.headers['x-cache-status'], 'Hit')
      assert.equal(body(stale), body(first), 'the stale entry')
      assert.ok(await eventually(() => up.seen.length === 2), 'the refresh reached the upstream')
      // watched through the Admin API, not by requests that would count against the limit
      const key = String(stale.headers['x-cache-key'])
      const stored = async () => {
        const r = await admin(gw, 'GET', `/proxy-cache/${key}`)
        return r.status === 200 && !String((r.body as { body: string }).body).includes(`"n":${body(first)}`)
      }
      assert.ok(await eventually(stored), 'the refreshed entry is stored')
      // the client's third request of the day is still within its limit of three
      const fresh = await call(`${gw.url}/limited/a`)
      assert.equal(fresh.status, 200, 'the refresh did not count against the client')
      assert.equal(fresh.headers['x-cache-status'], 'Hit')
      assert.notEqual(body(fresh), body(first), 'the refreshed entry is served')
      assert.equal((await call(`${gw.url}/limited/a`)).status, 429, 'the fourth is over the limit')
      assert.ok(await eventually(() => seen.length === 4))
      assert.deepEqual(seen, [
        'GET /limited/a Miss',
        'GET /limited/a Hit',
        'GET /limited/a Hit',
        'GET /limited/a ',
      ])
      assert.equal(up.seen.length, 2)
    })

    test('a HEAD that finds a stale entry has it refreshed with a GET', async () => {
      const first = await call(`${gw.url}/plain/h`)
      await sleep(1100)
      const head = await call(`${gw.url}/plain/h`, { method: 'HEAD' })
      assert.equal(head.headers['x-cache-status'], 'Hit')
      assert.ok(await eventually(() => up.seen.filter((x) => x.url === '/h').length === 2))
      assert.deepEqual(
        up.seen.filter((x) => x.url === '/h').map((x) => x.method),
        ['GET', 'GET'],
      )
      assert.ok(await eventually(async () => body(await call(`${gw.url}/plain/h`)) !== body(first)))
    })
  })
}

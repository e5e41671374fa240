import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { request } from 'undici'
import {
  admin,
  cacheGateway,
  cachePlugin,
  cacheRouteConfig,
  type Node,
  REDIS_URL,
  type Strategy,
  sleep,
} from '../fixtures/cache-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

/** An upstream that takes 150 ms per answer and counts what reaches it; /fail answers 500. */
async function slowUpstream(): Promise<Upstream> {
  const up: Upstream = await upstream('up', (req, res) => {
    const n = up.seen.length
    setTimeout(() => {
      const fail = req.url!.startsWith('/fail')
      res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ n }))
    }, 150)
  })
  return up
}

const config = (url: string, strategy: Strategy) => cacheRouteConfig(url, cachePlugin(strategy))

const hits = (url: string) => up.seen.filter((s) => s.url === url).length
let up: Upstream

describe('request collapsing', () => {
  before(async () => {
    up = await slowUpstream()
  })
  after(() => up.close())

  describe('memory strategy', () => {
    let gw: Node
    before(async () => {
      gw = await cacheGateway(config(up.url, 'memory'), 'memory')
    })
    after(() => gw.stop())

    test('200 concurrent requests for a cold key: one upstream request, every client gets its answer', async (t) => {
      const all = await Promise.all(Array.from({ length: 200 }, () => call(`${gw.url}/c/cold`)))
      t.diagnostic(`memory, 1 node: 200 concurrent cold requests → ${hits('/cold')} upstream request(s)`)
      assert.equal(hits('/cold'), 1)
      assert.ok(all.every((r) => r.status === 200 && r.text === all[0]!.text))
      const statuses = all.map((r) => r.headers['x-cache-status'])
      assert.equal(statuses.filter((s) => s === 'Miss').length, 1)
      assert.equal(statuses.filter((s) => s === 'Hit').length, 199)
    })

    test('a fill that is not cacheable: each waiter goes upstream itself', async () => {
      const all = await Promise.all(Array.from({ length: 20 }, () => call(`${gw.url}/c/fail`)))
      assert.ok(all.every((r) => r.status === 500))
      assert.equal(hits('/fail'), 20)
    })

    test('a leader whose client goes away does not strand its waiters', async () => {
      const gone = new AbortController()
      const leader = request(`${gw.url}/c/abandoned`, { signal: gone.signal }).catch(() => null)
      await sleep(30)
      const waiters = Array.from({ length: 5 }, () => call(`${gw.url}/c/abandoned`))
      await sleep(30)
      gone.abort()
      const answers = await Promise.all(waiters)
      await leader
      assert.ok(answers.every((r) => r.status === 200))
      assert.ok(hits('/abandoned') >= 2, 'the waiters went upstream once the leader was gone')
    })
  })

  describe('redis strategy: three nodes on one Redis', () => {
    const prefix = `t${randomUUID().slice(0, 8)}:`
    let nodes: Node[]
    let redis: Redis
    before(async () => {
      nodes = await Promise.all(
        [0, 1, 2].map(() => cacheGateway(config(up.url, 'redis'), 'redis', { prefix })),
      )
      redis = new Redis(REDIS_URL)
    })
    after(async () => {
      await Promise.all(nodes.map((n) => n.stop()))
      redis.disconnect()
    })

    test('200 concurrent requests for a cold key across three nodes: one upstream request', async (t) => {
      const all = await Promise.all(
        Array.from({ length: 200 }, (_, i) => call(`${nodes[i % 3]!.url}/c/cold3`)),
      )
      t.diagnostic(`redis, 3 nodes: 200 concurrent cold requests → ${hits('/cold3')} upstream request(s)`)
      assert.equal(hits('/cold3'), 1)
      assert.ok(all.every((r) => r.status === 200 && r.text === all[0]!.text))
      assert.equal(all.filter((r) => r.headers['x-cache-status'] === 'Miss').length, 1)
    })

    test('a node that died holding the fill lock blocks the others at most the lock ttl', async () => {
      const first = await call(`${nodes[0]!.url}/c/orphan`)
      const key = String(first.headers['x-cache-key'])
      assert.equal((await admin(nodes[0]!, 'DELETE', `/proxy-cache/${key}`)).status, 204)
      await redis.set(`${prefix}proxy-cache:{${key}}:lock`, 'a-dead-node', 'PX', 300)
      const before = hits('/orphan')
      const r = await call(`${nodes[1]!.url}/c/orphan`)
      assert.equal(r.status, 200)
      assert.equal(r.headers['x-cache-status'], 'Miss')
      assert.equal(hits('/orphan') - before, 1)
      assert.equal((await call(`${nodes[2]!.url}/c/orphan`)).headers['x-cache-status'], 'Hit')
    })
  })
})

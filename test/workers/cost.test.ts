import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { type Upstream, upstream } from '../fixtures/helpers.js'
import { SECRET } from '../fixtures/jwt-helpers.js'
import { burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 6 of "one node on every core": coordination costs nothing per request on the plain,
// key-auth, jwt and local-limit paths. The primary counts every message a worker sends it
// (portico_workers_messages_total{topic}); traffic on those paths must not move it, but for the
// local limit's quota blocks.

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ iss: 'alice-iss', exp: 4102444800 }))}`
const TOKEN = `${input}.${b64(createHmac('sha256', SECRET).update(input).digest())}`

const config = (url: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: plain, paths: [/plain] }
      - { name: keyed, paths: [/keyed], plugins: [{ name: key-auth }] }
      - { name: jwt, paths: [/jwt], plugins: [{ name: jwt }] }
      - name: limited
        paths: [/limited]
        plugins: [{ name: rate-limiting, config: { minute: 1000000000, policy: local, limit_by: service } }]
      - name: sliding
        paths: [/sliding]
        plugins: [{ name: rate-limiting, config: { minute: 1000000000, policy: local, limit_by: service, algorithm: sliding-window } }]
      - name: bucket
        paths: [/bucket]
        plugins: [{ name: rate-limiting, config: { minute: 1000000000, policy: local, limit_by: service, algorithm: token-bucket } }]
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    jwt_secrets: [{ key: alice-iss, algorithm: HS256, secret: ${SECRET} }]
`

/** Messages by topic, scrapes excluded (they are what reads the figures). */
async function messages(node: WorkerNode): Promise<Map<string, number>> {
  const text = (await get(node.status, '/metrics')).body
  const out = new Map<string, number>()
  for (const m of text.matchAll(/^portico_workers_messages_total\{topic="([^"]+)"\} (\d+)$/gm)) {
    if (!m[1]!.startsWith('metrics.') && !m[1]!.startsWith('workers.')) out.set(m[1]!, Number(m[2]))
  }
  return out
}

const TIMERS = new Set(['config.head', 'registry.call'])

const delta = (a: Map<string, number>, b: Map<string, number>) =>
  [...b].filter(([t, n]) => n !== (a.get(t) ?? 0)).map(([t, n]) => [t, n - (a.get(t) ?? 0)] as const)

for (const n of [2, 4]) {
  describe(`${n} workers: no message per request`, () => {
    let up: Upstream
    let node: WorkerNode
    before(async () => {
      up = await upstream('up')
      node = await startWorkers(n, config(up.url))
    })
    after(async () => {
      await node?.stop()
      await up?.close()
    })

    test('200 requests each on plain, key-auth and jwt routes send the primary nothing', async () => {
      // the config settles first (every worker reports its version once)
      await node.workersWhere((w) => w.length === n && w.every((x) => x.ready), 'ready')
      const before = await messages(node)
      const statuses = [
        ...(await burst(200, 4, () => get(node.proxy, '/plain'))),
        ...(await burst(200, 4, () => get(node.proxy, '/keyed', { headers: { apikey: 'alice-key' } }))),
        ...(await burst(200, 4, () =>
          get(node.proxy, '/jwt', { headers: { authorization: `Bearer ${TOKEN}` } }),
        )),
      ]
      assert.ok(statuses.every((s) => s === 200))
      // timers, not requests: each worker checks the stored version and sweeps the registry every second
      const moved = delta(before, await messages(node)).filter(([t]) => !TIMERS.has(t))
      assert.deepEqual(moved, [])
    })

    for (const [path, algorithm] of [
      ['/limited', 'fixed-window'],
      ['/sliding', 'sliding-window'],
      ['/bucket', 'token-bucket'],
    ] as const) {
      test(`800 requests under a local ${algorithm} limit ask for quota in blocks, not per request`, async (t) => {
        const before = await messages(node)
        const statuses = await burst(800, 4, () => get(node.proxy, path))
        assert.ok(statuses.every((s) => s === 200))
        const moved = delta(before, await messages(node)).filter(([topic]) => !TIMERS.has(topic))
        const takes = moved.find(([topic]) => topic === 'rate-limiting.take')?.[1] ?? 0
        t.diagnostic(`${n} workers, ${algorithm}: ${takes} quota questions for 800 requests`)
        // blocks sized to the key's rate (blocks.ts, doubling from one question to the next): a
        // few questions per worker; blocks given back when idle are the only other message
        assert.ok(takes > 0 && takes <= 800 / 16, `${takes} quota questions for 800 requests`)
        assert.deepEqual(
          moved.filter(([topic]) => topic !== 'rate-limiting.take' && topic !== 'rate-limiting.give-back'),
          [],
        )
      })
    }
  })
}

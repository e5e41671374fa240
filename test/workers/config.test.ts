import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { type PrivateRedis, privateRedis } from '../fixtures/control-plane-redis-server.js'
import { sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { admin, burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 2 of "one node on every core": an Admin API write, POST /config and a reload are
// applied by every worker before the answer; /healthz shows every worker on one version.

const base = (url: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: open, paths: [/open] }
      - name: closed
        paths: [/closed]
        plugins: [{ name: key-auth }]
consumers:
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
`

/** `n` requests on new connections (spread over the workers): their statuses. */
const statuses = (node: WorkerNode, n: number, path: string, headers: Record<string, string> = {}) =>
  burst(n, 4, () => get(node.proxy, path, { headers }))

const every = (list: number[], status: number) => list.every((s) => s === status)

for (const store of ['memory', 'redis'] as const) {
  for (const n of [2, 4]) {
    describe(`${n} workers, ${store} store: one configuration`, () => {
      let up: Upstream
      let node: WorkerNode
      let redis: PrivateRedis | null = null

      before(async () => {
        up = await upstream('up')
        if (store === 'redis') redis = await privateRedis()
        node = await startWorkers(n, base(up.url), { store, redisUrl: redis?.url })
      })
      after(async () => {
        await node?.stop()
        await redis?.close()
        await up?.close()
      })

      test('every worker runs the same version and hash (/healthz)', async () => {
        const workers = await node.workersWhere((w) => w.length === n, `${n} workers listed`)
        assert.deepEqual(
          workers.map((w) => w.slot),
          Array.from({ length: n }, (_, i) => i + 1),
        )
        assert.equal(new Set(workers.map((w) => `${w.generation}:${w.hash}`)).size, 1)
      })

      test('a route added through the Admin API answers on every worker once the write returned', async () => {
        const created = await admin(node, 'POST', '/services/s/routes', { name: 'fresh', paths: ['/fresh'] })
        assert.equal(created.status, 201, created.body)
        assert.ok(every(await statuses(node, 20, '/fresh'), 200))
        const workers = (await node.healthz()).workers
        assert.equal(new Set(workers.map((w) => `${w.generation}:${w.hash}`)).size, 1)
      })

      test('a deleted consumer is refused by every worker once the delete returned', async () => {
        assert.ok(every(await statuses(node, 10, '/closed', { apikey: 'bob-key' }), 200))
        const deleted = await admin(node, 'DELETE', '/consumers/bob')
        assert.equal(deleted.status, 204, deleted.body)
        assert.ok(every(await statuses(node, 10, '/closed', { apikey: 'bob-key' }), 401))
      })

      test('POST /config replaces the configuration on every worker before it answers', async () => {
        const doc = `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${up.url}\n    routes:\n      - { name: posted, paths: [/posted] }\n`
        const res = await admin(node, 'POST', '/config', { config: doc })
        assert.equal(res.status, 201, res.body)
        assert.ok(every(await statuses(node, 12, '/posted'), 200))
        assert.ok(every(await statuses(node, 8, '/open'), 404))
      })

      test('SIGHUP reloads the declarative file on every worker', async () => {
        if (store === 'redis') return // redis: a reload catches up with the store (no file import)
        const before = (await node.healthz()).workers[0]!.hash
        writeFileSync(
          node.file!,
          `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${up.url}\n    routes:\n      - { name: reloaded, paths: [/reloaded] }\n`,
        )
        node.child.kill('SIGHUP')
        const workers = await node.workersWhere(
          (w) =>
            w.length === n && w.every((x) => x.hash !== before) && new Set(w.map((x) => x.hash)).size === 1,
          'every worker on the reloaded file',
        )
        assert.equal(workers.length, n)
        assert.ok(every(await statuses(node, 12, '/reloaded'), 200))
      })

      test('writes from many clients at once: every answered write is live on every worker', async () => {
        for (let i = 0; i < 5; i++) {
          const names = Array.from({ length: 3 }, (_, j) => `c${i}-${j}`)
          const answers = await Promise.all(
            names.map((name) => admin(node, 'POST', '/services/s/routes', { name, paths: [`/${name}`] })),
          )
          for (const a of answers) assert.equal(a.status, 201, a.body)
          for (const name of names) assert.ok(every(await statuses(node, n, `/${name}`), 200), name)
        }
        await sleep(0)
      })
    })
  }
}

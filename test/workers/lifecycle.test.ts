import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// Point 5 of "one node on every core": a crashed worker is replaced while the others serve,
// SIGUSR2 replaces every worker one at a time with no failed request under load, SIGTERM
// drains every worker (in-flight requests finish) and the node exits 0.

const config = (url: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: r, paths: [/r] }
      - { name: slow, paths: [/slow] }
`

/** Requests on new connections, 4 at a time, until `done` resolves; every status seen. */
async function loadUntil(node: WorkerNode, done: Promise<unknown>): Promise<number[]> {
  let stop = false
  void done.finally(() => {
    stop = true
  })
  const seen: number[] = []
  const lane = async () => {
    // bounded: at most 2,000 requests per lane
    for (let i = 0; i < 2000 && !stop; i++) {
      seen.push(
        await get(node.proxy, '/r').then(
          (a) => a.status,
          () => 0,
        ),
      )
    }
  }
  await Promise.all([lane(), lane(), lane(), lane()])
  return seen
}

for (const n of [2, 4]) {
  describe(`${n} workers: lifecycle`, () => {
    let up: Upstream
    let node: WorkerNode
    before(async () => {
      up = await upstream('up', (req, res) => {
        if (req.url === '/slow') setTimeout(() => res.end('slow'), 800)
        else res.end('ok')
      })
      node = await startWorkers(n, config(up.url), { args: ['--drain-timeout', '10000'] })
    })
    after(async () => {
      await node?.stop()
      await up?.close()
    })

    test('a crashed worker is replaced in its slot while the others serve', async () => {
      const workers = await node.workersWhere((w) => w.length === n && w.every((x) => x.ready), 'ready')
      const victim = workers[n - 1]!
      const died = Date.now()
      process.kill(victim.pid, 'SIGKILL')
      // once the primary knows (a connection handed to the worker as it died is its in-flight
      // loss), the other workers serve every request while the slot is refilled
      while (!node.output().includes('worker died: replacing it') && Date.now() - died < 10_000)
        await sleep(20)
      const during = await burst(12, 3, () => get(node.proxy, '/r'))
      assert.ok(
        during.every((s) => s === 200),
        JSON.stringify(during),
      )
      const after = await node.workersWhere(
        (w) => w.length === n && w.every((x) => x.ready) && !w.some((x) => x.pid === victim.pid),
        'replacement ready',
      )
      assert.ok(after.some((w) => w.slot === victim.slot))
      assert.ok(node.output().includes('worker died: replacing it'))
    })

    test('SIGUSR2 replaces every worker one at a time with zero failed requests under load', async () => {
      const before = (await node.healthz()).workers.map((w) => w.pid)
      node.child.kill('SIGUSR2')
      const replaced = node.workersWhere(
        (w) => w.length === n && w.every((x) => x.ready && !before.includes(x.pid)),
        'every worker replaced',
        60_000,
      )
      const seen = await loadUntil(node, replaced)
      await replaced
      assert.ok(seen.length > 0)
      assert.deepEqual(
        seen.filter((s) => s !== 200),
        [],
        `${seen.length} requests`,
      )
    })

    test('SIGTERM drains every worker: in-flight requests finish, the node exits 0', async () => {
      const seenBefore = up.seen.filter((s) => s.url === '/slow').length
      const inflight = Promise.all(Array.from({ length: n * 2 }, () => get(node.proxy, '/slow')))
      // SIGTERM once every request reached the upstream (in flight in some worker)
      for (let i = 0; i < 200 && up.seen.filter((s) => s.url === '/slow').length < seenBefore + n * 2; i++)
        await new Promise((r) => setTimeout(r, 50))
      const code = node.stop()
      const answers = await inflight
      assert.deepEqual(
        answers.map((a) => a.status),
        new Array(n * 2).fill(200),
      )
      assert.equal(await code, 0)
    })
  })
}

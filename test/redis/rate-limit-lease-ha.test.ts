import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { request } from 'undici'
import { IDLE_MS, RECHECK_MS } from '../../src/plugins/rate-limiting/blocks.js'
import { gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { eventually } from '../fixtures/redis-features.js'
import {
  cli,
  type RedisCluster,
  type RedisSentinel,
  startCluster,
  startSentinel,
} from '../fixtures/redis-topology.js'

/**
 * Quota leasing (`lease: true`) on Redis Cluster and Sentinel: a lease is granted and returned
 * on the client's one key (one slot), so slots that move, a master that fails over or is killed
 * never let three nodes admit more than the limit. The routes do not fail open: a failed call is
 * a 500, never a 200 the limiter did not decide. Every run offers more than the limit, then
 * waits for the leases to come back and asks again, and counts every 200.
 *
 * What is guaranteed: the limit holds whenever Redis keeps what it acknowledged (slot
 * migration, a Sentinel failover, a kill after the replica caught up). A master killed before
 * its replica received a grant loses that grant's count: the limit can then be exceeded by at
 * most the grants of that replication lag (which no client can prevent; per-request mode loses
 * its last increments the same way).
 */

const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket'] as const
type Algo = (typeof ALGORITHMS)[number]
const L = 300

const doc = (url: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
${ALGORITHMS.map(
  (a) => `      - name: ${a}
        paths: [/${a}]
        plugins:
          - name: rate-limiting
            config: { day: ${L}, limit_by: header, header_name: x-client, policy: redis, lease: true, algorithm: ${a}, fault_tolerant: false }`,
).join('\n')}
`

/** long enough for idle leases to go back and refusals to be asked again */
const RETURNED_MS = IDLE_MS + RECHECK_MS + 500

interface Nodes {
  urls: string[]
  prefix: string
  stop(): Promise<void>
}

async function startNodes(up: Upstream, redisUrl: string): Promise<Nodes> {
  const prefix = `lha:${randomUUID().slice(0, 8)}:`
  const settings = { redisUrl, keyPrefix: prefix, redisDeadlineMs: 1000 }
  const nodes = await Promise.all([0, 1, 2].map(() => gateway(doc(up.url), settings)))
  return {
    urls: nodes.map((n) => n.url),
    prefix,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}

const status = async (url: string, path: string, client: string): Promise<number> => {
  const res = await request(`${url}${path}`, {
    headers: { 'x-client': client },
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  })
  await res.body.dump()
  return res.statusCode
}

/** Requests on the three algorithms (one client each) from every node, `workers` at a time. */
function leaseLoad(urls: string[], clients: Record<Algo, string>, workers = 6) {
  let running = true
  const admitted: Record<Algo, number> = { 'fixed-window': 0, 'sliding-window': 0, 'token-bucket': 0 }
  const state = { admitted, failed: 0, total: 0 }
  const all = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const algo = ALGORITHMS[(i + w) % 3]!
      const s = await status(urls[(i + 2 * w) % 3]!, `/${algo}`, clients[algo]).catch(() => 0)
      state.total++
      if (s === 200) admitted[algo]++
      else if (s !== 429) state.failed++
    }
  })
  return {
    state,
    stop: async () => {
      running = false
      await Promise.all(all)
    },
  }
}

/**
 * After the leases came back: asks until every node refuses each client for a while, adding
 * what is admitted. Then every algorithm must have admitted at most L.
 */
async function drainAndCheck(urls: string[], clients: Record<Algo, string>, admitted: Record<Algo, number>) {
  await sleep(RETURNED_MS)
  for (const algo of ALGORITHMS) {
    let refusals = 0
    for (let i = 0; refusals < 9 && i < L; i++) {
      const s = await status(urls[i % 3]!, `/${algo}`, clients[algo])
      if (s === 200) {
        admitted[algo]++
        refusals = 0
      } else refusals++
    }
  }
  for (const algo of ALGORITHMS) assert.ok(admitted[algo] <= L, `${algo}: ${admitted[algo]} admitted of ${L}`)
}

const freshClients = (): Record<Algo, string> => ({
  'fixed-window': randomUUID(),
  'sliding-window': randomUUID(),
  'token-bucket': randomUUID(),
})

/** The rate-limit keys of `prefix` on the masters (SCAN each). */
async function leaseKeys(masters: number[], prefix: string): Promise<Array<{ key: string; port: number }>> {
  const out: Array<{ key: string; port: number }> = []
  for (const port of masters) {
    const keys = (await cli(port, '--scan', '--pattern', `${prefix}rl:*`)).split('\n').filter(Boolean)
    for (const key of keys) out.push({ key, port })
  }
  return out
}

/**
 * Moves the slots of `keys` to another master by hand, the way `redis-cli --cluster reshard`
 * does, with load running: IMPORTING/MIGRATING (the keys still on the source), MIGRATE (ASK to
 * the target), SETSLOT NODE on every master (MOVED).
 */
async function migrate(cluster: RedisCluster, keys: Array<{ key: string; port: number }>): Promise<void> {
  const masters = await cluster.masters()
  const id = async (port: number) => (await cli(port, 'cluster', 'myid')).trim()
  const moves = await Promise.all(
    keys.map(async ({ key, port }) => {
      const to = masters.find((p) => p !== port)!
      const slot = (await cli(port, 'cluster', 'keyslot', key)).trim()
      return { key, from: port, fromId: await id(port), to, toId: await id(to), slot }
    }),
  )
  for (const m of moves) {
    await cli(m.to, 'cluster', 'setslot', m.slot, 'importing', m.fromId)
    await cli(m.from, 'cluster', 'setslot', m.slot, 'migrating', m.toId)
  }
  await sleep(200)
  for (const m of moves) {
    const inSlot = (await cli(m.from, 'cluster', 'getkeysinslot', m.slot, '100')).split('\n').filter(Boolean)
    if (inSlot.length > 0)
      await cli(m.from, 'migrate', '127.0.0.1', String(m.to), '', '0', '5000', 'keys', ...inSlot)
  }
  await sleep(200)
  for (const m of moves) for (const p of masters) await cli(p, 'cluster', 'setslot', m.slot, 'node', m.toId)
}

/** Waits until the replicas of `master` acknowledged everything it wrote. */
async function replicated(master: number): Promise<void> {
  const offsets = async () => {
    const info = await cli(master, 'info', 'replication')
    const own = Number(/master_repl_offset:(\d+)/.exec(info)?.[1])
    const replicas = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => Number(m[1]))
    return replicas.length > 0 && replicas.every((o) => o === own) && !info.includes('state=wait')
  }
  assert.ok(
    await eventually(offsets, 45_000),
    `the replica caught up: ${await cli(master, 'info', 'replication')}`,
  )
}

describe('quota leases on a Redis Cluster (3 masters, 3 replicas)', () => {
  let cluster: RedisCluster
  let up: Upstream
  let nodes: Nodes
  before(async () => {
    cluster = await startCluster()
    up = await upstream('up')
    nodes = await startNodes(up, cluster.url)
  })
  after(async () => {
    await nodes?.stop()
    await up?.close()
    await cluster?.close()
  })

  test('the clients’ slots migrate under load (MIGRATING, ASK, MOVED): never above the limit', async () => {
    const clients = freshClients()
    const running = leaseLoad(nodes.urls, clients)
    await sleep(100)
    const keys = await leaseKeys(await cluster.masters(), nodes.prefix)
    assert.equal(keys.length, 3, 'one key per algorithm')
    await migrate(cluster, keys)
    await sleep(300)
    await running.stop()
    assert.equal(running.state.failed, 0, `${running.state.failed} of ${running.state.total} failed`)
    const moved = await leaseKeys(await cluster.masters(), nodes.prefix)
    for (const k of keys) assert.notEqual(moved.find((m) => m.key === k.key)?.port, k.port, 'the key moved')
    await drainAndCheck(nodes.urls, clients, running.state.admitted)
  })

  test('the master of the clients’ keys killed while nodes hold leases: never above the limit', async () => {
    const clients = freshClients()
    const running = leaseLoad(nodes.urls, clients)
    await sleep(100)
    await running.stop()
    const keys = await leaseKeys(await cluster.masters(), nodes.prefix)
    const victim = keys.find((k) => k.key.includes(clients['fixed-window']))!.port
    await replicated(victim)
    await cluster.servers.find((s) => s.port === victim)!.kill()
    // load through the failover: units in hand are used, calls fail closed (500) until a
    // replica takes over (cluster-node-timeout 1 s)
    const during = leaseLoad(nodes.urls, clients)
    assert.ok(
      await eventually(async () => {
        try {
          await cluster.settled()
          return true
        } catch {
          return false
        }
      }, 20_000),
      'a replica took over',
    )
    await sleep(500)
    await during.stop()
    for (const algo of ALGORITHMS) running.state.admitted[algo] += during.state.admitted[algo]
    await drainAndCheck(nodes.urls, clients, running.state.admitted)
  })
})

describe('quota leases on Sentinel (1 master, 1 replica, 3 sentinels)', () => {
  let s: RedisSentinel
  let up: Upstream
  let nodes: Nodes
  before(async () => {
    s = await startSentinel()
    up = await upstream('up')
    nodes = await startNodes(up, s.url)
  })
  after(async () => {
    await nodes?.stop()
    await up?.close()
    await s?.close()
  })

  test('SENTINEL FAILOVER (writes paused on the old master) under load, nodes holding leases: never above the limit', async () => {
    const old = await s.masterPort()
    const clients = freshClients()
    const first = leaseLoad(nodes.urls, clients)
    await sleep(100)
    await first.stop()
    await replicated(old)
    // SENTINEL FAILOVER promotes the replica without waiting for the old master: what the old
    // master acknowledged after that is lost (see the top). Paused writes make it a failover
    // that loses nothing, as the FAILOVER command coordinates one; the load runs through it
    await cli(old, 'client', 'pause', '5000', 'write')
    await cli(s.sentinels[0]!.port, 'sentinel', 'failover', 'mymaster')
    const during = leaseLoad(nodes.urls, clients)
    assert.ok(
      await eventually(async () => (await s.masterPort().catch(() => old)) !== old, 45_000),
      'sentinel promoted the replica',
    )
    await sleep(1_000)
    await during.stop()
    for (const algo of ALGORITHMS) first.state.admitted[algo] += during.state.admitted[algo]
    await drainAndCheck(nodes.urls, clients, first.state.admitted)
  })

  test('the master killed after its replica caught up, nodes holding leases: never above the limit', async () => {
    const old = await s.masterPort()
    const clients = freshClients()
    const first = leaseLoad(nodes.urls, clients)
    await sleep(100)
    await first.stop()
    await replicated(old)
    await [s.master, s.replica].find((p) => p.port === old)!.kill()
    const during = leaseLoad(nodes.urls, clients)
    assert.ok(
      await eventually(async () => (await s.masterPort().catch(() => old)) !== old, 45_000),
      'sentinel promoted the replica',
    )
    await sleep(1_000)
    await during.stop()
    for (const algo of ALGORITHMS) first.state.admitted[algo] += during.state.admitted[algo]
    await drainAndCheck(nodes.urls, clients, first.state.admitted)
  })
})

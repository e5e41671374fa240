import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { sleep } from '../fixtures/helpers.js'
import {
  ALGORITHMS,
  burst,
  checkCache,
  checkConfig,
  checkLimits,
  checkQueue,
  checkRegistry,
  checkRevocation,
  eventually,
  type Fleet,
  get,
  LIMIT,
  load,
  startFleet,
} from '../fixtures/redis-features.js'
import { cli, type RedisCluster, startCluster } from '../fixtures/redis-topology.js'

/** The port of the master that owns `key`'s slot. */
async function ownerOf(cluster: RedisCluster, key: string): Promise<{ port: number; id: string }> {
  const alive = cluster.servers.find((s) => s.child !== null)!
  const probe = new Redis({ port: alive.port, host: '127.0.0.1', lazyConnect: true })
  try {
    await probe.connect()
    const slot = (await probe.cluster('KEYSLOT', key)) as number
    const slots = (await probe.cluster('SLOTS')) as unknown as Array<
      [number, number, [string, number, string]]
    >
    const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi)!
    return { port: range[2][1], id: range[2][2] }
  } finally {
    probe.disconnect()
  }
}

/**
 * The master and slot count to hand to `redis-cli --cluster reshard` so that the move takes a
 * slot holding a live key as early as possible (reshard moves a source's slots lowest first).
 */
async function reshardPlan(masters: number[]): Promise<{ port: number; slots: number }> {
  let best = { port: masters[0]!, slots: Number.POSITIVE_INFINITY }
  for (const port of masters) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true })
    try {
      await probe.connect()
      const keys = (await probe.scan('0', 'COUNT', 1000))[1]
      const mine = ((await probe.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>)
        .filter((r) => r[2][1] === port)
        .sort((a, b) => a[0] - b[0])
      for (const k of keys) {
        const slot = (await probe.cluster('KEYSLOT', k)) as number
        let before = 0
        for (const [lo, hi] of mine) before += slot > hi ? hi - lo + 1 : slot >= lo ? slot - lo : 0
        if (before + 1 < best.slots) best = { port, slots: before + 1 }
      }
    } finally {
      probe.disconnect()
    }
  }
  return best
}

describe('every Redis feature on a Redis Cluster (3 masters, 3 replicas)', () => {
  let cluster: RedisCluster
  let f: Fleet

  before(async () => {
    cluster = await startCluster()
    f = await startFleet(cluster.url)
  })
  after(async () => {
    await f?.close()
    await cluster?.close()
  })

  test('the cluster URL parses and the node reports the connection on /healthz state', () => {
    const status = f.nodes[0]!.node.services.redisStatus()
    assert.equal(status[0]!.mode, 'cluster')
    assert.equal(status[0]!.breaker, 'closed')
  })
  test('config store: a change through any node is live on all', () => checkConfig(f, 'c1'))
  test('registry: registrations and TTLs', () => checkRegistry(f, 'c1'))
  test('rate limits are exact across nodes, every algorithm', () => checkLimits(f, 'c1'))
  test('request-queue leases are shared', () => checkQueue(f, 'c1'))
  test('proxy-cache: misses collapse across nodes, a purge reaches all', () => checkCache(f, 'c1'))
  test('jwt revocation reaches every node', () => checkRevocation(f, 'c1'))

  test('per-plugin config.redis.cluster_nodes: exact limits; plugins on the same Redis share one connection', async () => {
    const seed = cluster.servers[0]!.port
    const redis = { cluster_nodes: [{ ip: '127.0.0.1', port: seed }], timeout: 300 }
    const a = f.nodes[0]!
    assert.equal(
      (await a.req('POST', '/services/s/routes', { name: 'own-redis', paths: ['/own'] })).status,
      201,
    )
    for (const [name, config] of [
      ['rate-limiting', { day: LIMIT, policy: 'redis', limit_by: 'header', header_name: 'x-client', redis }],
      ['request-queue', { concurrency: 5, policy: 'redis', redis }],
    ] as const) {
      const r = await a.req('POST', '/routes/own-redis/plugins', { name, config })
      assert.equal(r.status, 201, r.text)
    }
    // every node runs the route with its plugins (a node may see the route a version earlier)
    const limited = async (n: (typeof f.nodes)[number]) =>
      (await get(n, '/own', { 'x-client': 'probe' })).headers['x-ratelimit-limit-day'] === String(LIMIT)
    for (const n of f.nodes)
      assert.ok(await eventually(() => limited(n), 30_000), 'the plugin limits on every node')
    const statuses = await burst(f, '/own', 'own-1')
    assert.equal(statuses.filter((s) => s === 200).length, LIMIT, statuses.join(','))
    for (const n of f.nodes) {
      const links = n.node.services.redisStatus()
      assert.deepEqual(
        links.map((l) => l.url),
        [
          cluster.url.replace(/^redis\+cluster:\/\//, 'redis+cluster://'),
          `redis+cluster://127.0.0.1:${seed}`,
        ],
        'the node Redis, and one connection for both plugins',
      )
    }
  })

  test('MOVED/ASK while slots migrate under load (redis-cli --cluster reshard): no failed request', async () => {
    const masters = await cluster.masters()
    assert.equal(masters.length, 3)
    // the keys the load uses exist once it ran a little; move slots up to one holding a live
    // key, so requests meet MOVED and ASK for sure
    const running = load(f)
    await sleep(300)
    const plan = await reshardPlan(masters)
    const fromPort = plan.port
    const fromId = (await cli(fromPort, 'cluster', 'myid')).trim()
    const to = masters.find((p) => p !== fromPort)!
    const toId = (await cli(to, 'cluster', 'myid')).trim()
    await cli(
      fromPort,
      '--cluster',
      'reshard',
      `127.0.0.1:${fromPort}`,
      '--cluster-from',
      fromId,
      '--cluster-to',
      toId,
      '--cluster-slots',
      String(plan.slots + 20),
      '--cluster-yes',
    )
    await sleep(300)
    await running.stop()
    assert.ok(running.total > 0)
    assert.equal(
      running.failed,
      0,
      `${running.failed} of ${running.total} failed: ${running.failures.join('; ')}`,
    )
    await cluster.settled()
    // the limits are exact on the new layout
    for (const algo of ALGORITHMS) {
      const statuses = await burst(f, `/rl/${algo}`, 'after-reshard')
      assert.equal(statuses.filter((s) => s === 200).length, LIMIT, algo)
    }
  })

  test('a master killed under load: the fault policies hold, then every feature works on the new master', async () => {
    // the master holding the config document: the hardest one to lose
    const prefix = f.nodes[0]!.node.services.keyPrefix
    const owner = await ownerOf(cluster, `${prefix}{config}`)
    const running = load(f)
    await sleep(300)
    await cluster.servers.find((s) => s.port === owner.port)!.kill()
    // a replica takes over (cluster-node-timeout 1 s)
    assert.ok(
      await eventually(async () => {
        try {
          await cluster.settled()
          return true
        } catch {
          return false
        }
      }, 20_000),
    )
    await sleep(500)
    await running.stop()
    assert.equal(
      running.failed,
      0,
      `${running.failed} of ${running.total} failed under the failover: ${running.failures.join('; ')}`,
    )
    await checkConfig(f, 'c2')
    await checkRegistry(f, 'c2')
    await checkLimits(f, 'c2')
    await checkQueue(f, 'c2')
    await checkCache(f, 'c2')
    await checkRevocation(f, 'c2')
  })
})

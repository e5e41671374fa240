import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
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
  LIMIT,
  load,
  startFleet,
} from '../fixtures/redis-features.js'
import { sleep } from '../fixtures/helpers.js'
import { cli, type RedisCluster, startCluster } from '../fixtures/redis-topology.js'

/** The port of the master that owns `key`'s slot. */
async function ownerOf(cluster: RedisCluster, key: string): Promise<{ port: number; id: string }> {
  const alive = cluster.servers.find((s) => s.child !== null)!
  const probe = new Redis({ port: alive.port, host: '127.0.0.1', lazyConnect: true })
  try {
    await probe.connect()
    const slot = (await probe.cluster('KEYSLOT', key)) as number
    const slots = (await probe.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>
    const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi)!
    return { port: range[2][1], id: range[2][2] }
  } finally {
    probe.disconnect()
  }
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

  test('MOVED/ASK while slots migrate under load (redis-cli --cluster reshard): no failed request', async () => {
    const prefix = (await f.nodes[0]!.req('GET', '/plugins?size=100')).body.data as Array<{
      id: string
      route: { id: string } | null
      name: string
    }>
    assert.ok(prefix.length > 0)
    const masters = await cluster.masters()
    assert.equal(masters.length, 3)
    const from = await ownerOf(cluster, 'x-any{a}')
    const to = masters.find((p) => p !== from.port)!
    const toId = (await cli(to, 'cluster', 'myid')).trim()
    const running = load(f)
    await cli(
      from.port,
      '--cluster',
      'reshard',
      `127.0.0.1:${from.port}`,
      '--cluster-from',
      from.id,
      '--cluster-to',
      toId,
      '--cluster-slots',
      '1000',
      '--cluster-yes',
    )
    await sleep(300)
    await running.stop()
    assert.ok(running.total > 0)
    assert.equal(running.failed, 0, `${running.failed} of ${running.total} failed`)
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
    assert.equal(running.failed, 0, `${running.failed} of ${running.total} failed under the failover`)
    await checkConfig(f, 'c2')
    await checkRegistry(f, 'c2')
    await checkLimits(f, 'c2')
    await checkQueue(f, 'c2')
    await checkCache(f, 'c2')
    await checkRevocation(f, 'c2')
  })
})

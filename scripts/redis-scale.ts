/**
 * Redis at scale: three Portico nodes, each its own `portico start` process as users run them
 * (`PORTICO_CONFIG_STORE=redis`, the same declarative file, the default Redis deadline), on a
 * Redis Cluster (6 redis-server processes: 3 masters, 3 replicas) and then on Sentinel (1
 * master, 1 replica, 3 sentinels), everything started here on free loopback ports and stopped by
 * pid. For each it prints:
 *
 *   - config propagation p50/p99 over 100 changes (Admin API write on one node → the new route
 *     answers on the proxy of all three);
 *   - rate-limit accuracy per algorithm: accepted / limit for 3 × limit concurrent requests
 *     spread over the nodes;
 *   - origin hits for 200 concurrent identical misses (proxy-cache, redis strategy);
 *   - a master killed (SIGKILL) under load on every feature: failed requests (5xx or no
 *     answer), the slowest request, and the time from the kill until all three algorithms are
 *     exact again; on Sentinel first a `SENTINEL FAILOVER`, then the master killed;
 *   - a JWT revocation made through one node: the time until all three refuse the token (before
 *     the faults and after each).
 *
 *   npm run -s build && node dist/scripts/redis-scale.js [cluster|sentinel|both]
 */

import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import type { Upstream } from '../test/fixtures/helpers.js'
import { type NodeProcess, startNodeProcess } from '../test/fixtures/node-process.js'
import {
  ALGORITHMS,
  burst,
  countingUpstream,
  featureDoc,
  get,
  LIMIT,
  load,
  type Proxies,
  SECRET,
} from '../test/fixtures/redis-features.js'
import {
  cli,
  type RedisCluster,
  type RedisSentinel,
  startCluster,
  startSentinel,
} from '../test/fixtures/redis-topology.js'

/** Three `portico start` processes on one Redis deployment, and the origin they proxy to. */
interface Fleet extends Proxies {
  nodes: NodeProcess[]
  up: Upstream
  hits: Map<string, number>
  close(): Promise<void>
}

async function startFleet(url: string, tag: string): Promise<Fleet> {
  const hits = new Map<string, number>()
  const up = await countingUpstream(hits)
  const file = join(tmpdir(), `portico-scale-${tag}-${process.pid}.yaml`)
  writeFileSync(file, featureDoc(up.url))
  const settings = {
    PORTICO_REDIS_URL: url,
    PORTICO_CONFIG_STORE: 'redis',
    PORTICO_DECLARATIVE_CONFIG: file,
    PORTICO_ANALYTICS: 'off',
  }
  const nodes: NodeProcess[] = []
  try {
    // the first node seeds Redis from the file; the others find the entities there
    nodes.push(await startNodeProcess(settings))
    nodes.push(...(await Promise.all([startNodeProcess(settings), startNodeProcess(settings)])))
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()))
    await up.close()
    throw err
  }
  console.log(`nodes: ${nodes.map((n) => `pid ${n.pid} proxy ${n.proxy}`).join(', ')}`)
  return {
    nodes,
    up,
    hits,
    async close() {
      await Promise.all(nodes.map((n) => n.stop()))
      await up.close()
      rmSync(file, { force: true })
    },
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** Admin write on node i % 3 → the new route answers (not 404) on every node's proxy. */
async function propagation(f: Fleet, tag: string, changes = 100): Promise<string> {
  const times: number[] = []
  for (let i = 0; i < changes + 5; i++) {
    const name = `p-${tag}-${i}`
    const t0 = performance.now()
    const res = await f.nodes[i % 3]!.req('POST', '/services/s/routes', { name, paths: [`/${name}`] })
    if (res.status !== 201) throw new Error(`change ${i}: ${res.status} ${res.text}`)
    await Promise.all(
      f.nodes.map(async (n) => {
        while ((await get(n, `/${name}`)).status === 404) await sleep(1)
      }),
    )
    if (i >= 5) times.push(performance.now() - t0) // 5 warm-up changes are not counted
  }
  times.sort((a, b) => a - b)
  return `config propagation over ${changes} changes: p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`
}

async function accuracy(f: Fleet, tag: string): Promise<string[]> {
  const out: string[] = []
  for (const algo of ALGORITHMS) {
    const statuses = await burst(f, `/rl/${algo}`, `acc-${tag}`)
    const ok = statuses.filter((s) => s === 200).length
    out.push(
      `rate limit ${algo}: accepted ${ok} / limit ${LIMIT} (of ${statuses.length} concurrent over 3 nodes)`,
    )
  }
  return out
}

async function collapse(f: Fleet, tag: string): Promise<string> {
  const path = `/cached/scale-${tag}`
  const all = await Promise.all(Array.from({ length: 200 }, (_, i) => get(f.nodes[i % 3]!, path)))
  const bad = all.filter((r) => r.status !== 200).length
  return `cache: 200 concurrent identical misses over 3 nodes → ${f.hits.get(path) ?? 0} origin hit(s), ${bad} non-200`
}

/** A token revoked through node 2: the time until all three refuse it (polled, bounded to 60 s). */
async function revocation(f: Fleet, tag: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jti = `scale-${tag}`
  const token = await new SignJWT({ iss: 'alice-iss', exp: now + 600, jti })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET))
  const auth = { authorization: `Bearer ${token}` }
  const before = await Promise.all(f.nodes.map((n) => get(n, '/api', auth)))
  if (before.some((r) => r.status !== 200)) return `jwt revocation ${tag}: the token was not accepted first`
  const t0 = performance.now()
  const res = await f.nodes[1]!.req('POST', '/jwt/revocations', { jti, exp: now + 600 })
  if (res.status !== 201) return `jwt revocation ${tag}: ${res.status} ${res.text}`
  const refused = await Promise.all(
    f.nodes.map(async (n) => {
      while (performance.now() - t0 < 60_000) {
        if ((await get(n, '/api', auth)).status === 401) return performance.now() - t0
        await sleep(5)
      }
      return Number.NaN
    }),
  )
  const missing = refused.filter(Number.isNaN).length
  return missing > 0
    ? `jwt revocation through one node (${tag}): NOT refused on ${missing} of 3 nodes within 60 s`
    : `jwt revocation through one node (${tag}): refused on all 3 nodes after ${Math.max(...refused).toFixed(1)} ms`
}

/** Kills (or fails over) under load; then measures until every algorithm is exact again. */
async function fault(f: Fleet, what: string, act: () => Promise<void>): Promise<string[]> {
  const running = load(f, 8)
  await sleep(500)
  const t0 = performance.now()
  await act()
  let exactAt = Number.NaN
  for (let round = 0; performance.now() - t0 < 60_000; round++) {
    let exact = true
    for (const algo of ALGORITHMS) {
      const statuses = await burst(f, `/rl/${algo}`, `exact-${what}-${round}`)
      if (statuses.filter((s) => s === 200).length !== LIMIT) exact = false
    }
    if (exact) {
      exactAt = performance.now() - t0
      break
    }
    await sleep(50)
  }
  await sleep(500)
  await running.stop()
  return [
    `${what} under load: ${running.failed} failed of ${running.total} requests, slowest ${running.slowestMs.toFixed(0)} ms`,
    `${what}: limits exact again ${Number.isNaN(exactAt) ? 'not within 60 s' : `${(exactAt / 1000).toFixed(2)} s`} after it`,
    await revocation(f, `after ${what}`.replaceAll(' ', '-')),
  ]
}

async function report(name: string, f: Fleet, faults: Array<[string, () => Promise<void>]>): Promise<void> {
  console.log(`\n== ${name} ==`)
  name = name.split(' ')[0]!.toLowerCase()
  console.log(await propagation(f, name))
  for (const line of await accuracy(f, name)) console.log(line)
  console.log(await collapse(f, name))
  console.log(await revocation(f, name))
  for (const [what, act] of faults) for (const line of await fault(f, what, act)) console.log(line)
}

async function onCluster(): Promise<void> {
  let cluster: RedisCluster | undefined
  let f: Fleet | undefined
  try {
    cluster = await startCluster()
    f = await startFleet(cluster.url, 'cluster')
    const c = cluster
    await report('Redis Cluster (3 masters + 3 replicas)', f, [
      [
        'a master killed',
        async () => {
          // the master of the config document's slot
          const prefix = 'portico:' // the nodes' default key prefix
          const slot = Number(await cli(c.servers[0]!.port, 'cluster', 'keyslot', `${prefix}{config}`))
          const nodes = await cli(c.servers[0]!.port, 'cluster', 'nodes')
          const owner = nodes
            .split('\n')
            .map((l) => l.split(' '))
            .find((p) =>
              p.slice(8).some((r) => {
                const [lo, hi] = r.split('-').map(Number)
                return slot >= lo! && slot <= (hi ?? lo)!
              }),
            )!
          const port = Number(owner[1]!.split(':')[1]!.split('@')[0])
          await c.servers.find((s) => s.port === port)!.kill()
        },
      ],
    ])
  } finally {
    await f?.close()
    await cluster?.close()
  }
}

async function onSentinel(): Promise<void> {
  let s: RedisSentinel | undefined
  let f: Fleet | undefined
  try {
    s = await startSentinel()
    f = await startFleet(s.url, 'sentinel')
    const sen = s
    await report('Sentinel (1 master + 1 replica + 3 sentinels)', f, [
      [
        'SENTINEL FAILOVER',
        async () => void (await cli(sen.sentinels[0]!.port, 'sentinel', 'failover', 'mymaster')),
      ],
      [
        'the master killed',
        async () => {
          const port = await sen.masterPort()
          await [sen.master, sen.replica].find((p) => p.port === port)!.kill()
        },
      ],
    ])
  } finally {
    await f?.close()
    await s?.close()
  }
}

const which = process.argv[2] ?? 'both'
if (which === 'cluster' || which === 'both') await onCluster()
if (which === 'sentinel' || which === 'both') await onSentinel()
process.exit(0)

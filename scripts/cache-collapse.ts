/**
 * Prints what proxy-cache's request collapsing and its in-process tier actually do, counted
 * rather than asserted (the tests assert the same: test/cache/cache-collapse.test.ts,
 * test/cache/cache-redis.test.ts):
 *
 * 1. 200 concurrent GETs of one cold key through one node (memory strategy), and spread over
 *    three nodes sharing one Redis (redis strategy), against an upstream that takes 150 ms:
 *    how many requests reached the upstream, and the X-Cache-Status each client got.
 * 2. redis strategy: the Redis commands (INFO commandstats) that hits served from the node's
 *    in-process tier cost, and what one hit costs once the in-process copy has expired.
 *
 * Runs on loopback with a private redis-server (redis-server must be on PATH).
 *
 *   node dist/scripts/cache-collapse.js [concurrency=200]
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import {
  cacheGateway,
  cacheRouteConfig,
  type Node,
  sleep,
  startRedis,
} from '../test/fixtures/cache-helpers.js'
import { call, type Upstream, upstream } from '../test/fixtures/helpers.js'

const config = (url: string, strategy: 'memory' | 'redis') =>
  cacheRouteConfig(url, `{ name: proxy-cache, config: { strategy: ${strategy} } }`)

/** Calls per command from INFO commandstats (INFO itself left out). */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m && m[1] !== 'info') out.set(m[1]!, Number(m[2]))
  }
  return out
}

function delta(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {}
  for (const [k, v] of b) if (v !== (a.get(k) ?? 0)) d[k] = v - (a.get(k) ?? 0)
  return d
}

const total = (d: Record<string, number>) => Object.values(d).reduce((a, b) => a + b, 0)

function tally(values: Array<string | string[] | undefined>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1
  return out
}

async function collapse(n: number, up: Upstream, nodes: Node[], path: string) {
  const before = up.seen.filter((s) => s.url === path).length
  const all = await Promise.all(
    Array.from({ length: n }, (_, i) => call(`${nodes[i % nodes.length]!.url}/c${path}`)),
  )
  return {
    upstream: up.seen.filter((s) => s.url === path).length - before,
    statuses: tally(all.map((r) => r.headers['x-cache-status'])),
    codes: tally(all.map((r) => String(r.status))),
    identical: all.every((r) => r.text === all[0]!.text),
  }
}

export async function main(n: number): Promise<void> {
  const up: Upstream = await upstream('up', (_req, res) => {
    const seq = up.seen.length
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ seq }))
    }, 150)
  })
  const redis = await startRedis()
  const probe = new Redis(redis.url)
  const settings = { redisUrl: redis.url }
  try {
    console.log(`request collapsing: ${n} concurrent GETs of one cold key, upstream answers in 150 ms`)
    const one = await cacheGateway(config(up.url, 'memory'), 'memory')
    try {
      const r = await collapse(n, up, [one], '/cold-memory')
      console.log(
        `  memory strategy, 1 node:   upstream requests ${r.upstream}   X-Cache-Status ${JSON.stringify(r.statuses)}   status ${JSON.stringify(r.codes)}   identical bodies: ${r.identical}`,
      )
    } finally {
      await one.stop()
    }
    const prefix = `collapse-${randomUUID().slice(0, 8)}:`
    const three = await Promise.all(
      [0, 1, 2].map(() => cacheGateway(config(up.url, 'redis'), 'redis', { prefix, settings })),
    )
    try {
      const r = await collapse(n, up, three, '/cold-redis')
      console.log(
        `  redis strategy, 3 nodes:   upstream requests ${r.upstream}   X-Cache-Status ${JSON.stringify(r.statuses)}   status ${JSON.stringify(r.codes)}   identical bodies: ${r.identical}`,
      )
    } finally {
      await Promise.all(three.map((g) => g.stop()))
    }

    console.log(
      'redis strategy, hits from the in-process tier: Redis commands counted with INFO commandstats',
    )
    const gw = await cacheGateway(config(up.url, 'redis'), 'redis', { settings })
    try {
      const miss = await call(`${gw.url}/c/hot`)
      await sleep(50) // the fill's own writes land
      const before = await commandCalls(probe)
      const hits = 20
      const statuses: Array<string | string[] | undefined> = []
      for (let i = 0; i < hits; i++) statuses.push((await call(`${gw.url}/c/hot`)).headers['x-cache-status'])
      const d = delta(before, await commandCalls(probe))
      console.log(
        `  first request: ${miss.headers['x-cache-status']}; then ${hits} requests ${JSON.stringify(tally(statuses))}: ${total(d)} Redis commands ${JSON.stringify(d)}`,
      )
      await sleep(1100) // past the in-process tier's 1 s
      const later = await commandCalls(probe)
      const after = (await call(`${gw.url}/c/hot`)).headers['x-cache-status']
      const d2 = delta(later, await commandCalls(probe))
      console.log(
        `  after the in-process copy expired: 1 request ${after}: ${total(d2)} Redis command(s) ${JSON.stringify(d2)}`,
      )
    } finally {
      await gw.stop()
    }
  } finally {
    probe.disconnect()
    await redis.stop()
    await up.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(Number(process.argv[2] ?? 200))
}

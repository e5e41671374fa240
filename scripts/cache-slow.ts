/**
 * Cache ON vs OFF on the demo's slow service (the Kong + Redis cache reference): starts
 * `demo/services/slow.ts` (~120 ms per answer) and a gateway caching `GET /slow` with
 * proxy-cache (memory strategy, as in the demo), then prints the miss latency, the hit latency
 * percentiles over sequential requests on one keep-alive connection, and how many requests
 * reached the slow service. Goal: hit p50 < 2 ms. The first miss also pays for a cold process
 * (JIT, first connection to the service); the misses measured after the hits (new query
 * strings, warm process) show what a miss costs in steady state. With the redis strategy it
 * also counts the Redis commands the hits cost (INFO commandstats; REDIS_URL, default
 * redis://127.0.0.1:6379; other clients of that Redis would be counted too).
 *
 *   node dist/scripts/cache-slow.js [hits=500] [strategy=memory|redis]
 */
import { Redis } from 'ioredis'
import { Pool } from 'undici'
import { startSlow } from '../demo/services/slow.js'
import { redisReady } from '../test/fixtures/cache-helpers.js'
import { gateway } from '../test/fixtures/helpers.js'

export interface SlowReport {
  missMs: number
  /** misses after the hits: a warm process, a new key each */
  warmMissMs: { p50: number; max: number; n: number }
  hits: number
  hitMs: { p50: number; p90: number; p99: number; max: number }
  upstreamRequests: number
  statuses: Record<string, number>
  /** redis strategy: commands Redis executed during the measured hits, by command */
  redisDuringHits: Record<string, number> | null
}

/** Calls per command from INFO commandstats (INFO itself left out). */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m && m[1] !== 'info') out.set(m[1]!, Number(m[2]))
  }
  return out
}

const config = (url: string, strategy: string) => `
_format_version: "3.0"
services:
  - name: slow
    url: ${url}/slow
    routes:
      - name: slow
        paths: [/slow]
        methods: [GET, HEAD]
        plugins:
          - name: proxy-cache
            config:
              strategy: ${strategy}
              cache_ttl: 30
              content_type: [application/json, "application/json; charset=utf-8"]
`

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export async function cacheSlow(opts: { hits: number; strategy: 'memory' | 'redis' }): Promise<SlowReport> {
  const slow = await startSlow({ port: 0 })
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const gw = await gateway(config(slow.url, opts.strategy), opts.strategy === 'redis' ? { redisUrl } : {})
  const probe = opts.strategy === 'redis' ? new Redis(redisUrl) : null
  await redisReady(gw) // until Redis is connected, the redis strategy steps aside (Bypass)
  const pool = new Pool(gw.url, { connections: 1 })
  const statuses: Record<string, number> = {}
  const get = async (path = '/slow?report=q3'): Promise<number> => {
    const t0 = performance.now()
    const r = await pool.request({ method: 'GET', path })
    await r.body.dump()
    const ms = performance.now() - t0
    const s = String(r.headers['x-cache-status'])
    statuses[s] = (statuses[s] ?? 0) + 1
    return ms
  }
  try {
    const missMs = await get()
    for (let i = 0; i < 50; i++) await get() // warm the JIT before measuring
    const before = probe === null ? null : await commandCalls(probe)
    const times: number[] = []
    for (let i = 0; i < opts.hits; i++) times.push(await get())
    times.sort((a, b) => a - b)
    let redisDuringHits: Record<string, number> | null = null
    if (probe !== null && before !== null) {
      redisDuringHits = {}
      for (const [k, v] of await commandCalls(probe))
        if (v !== (before.get(k) ?? 0)) redisDuringHits[k] = v - (before.get(k) ?? 0)
    }
    const misses: number[] = []
    for (let i = 0; i < 5; i++) misses.push(await get(`/slow?report=q3&warm=${i}`))
    misses.sort((a, b) => a - b)
    const stats = (await (await fetch(`${slow.url}/stats`)).json()) as { hits: number }
    return {
      missMs,
      warmMissMs: { p50: pct(misses, 50), max: misses.at(-1)!, n: misses.length },
      hits: opts.hits,
      hitMs: { p50: pct(times, 50), p90: pct(times, 90), p99: pct(times, 99), max: times.at(-1)! },
      upstreamRequests: stats.hits,
      statuses,
      redisDuringHits,
    }
  } finally {
    probe?.disconnect()
    await pool.close()
    await gw.stop()
    await slow.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [hits = '500', strategy = 'memory'] = process.argv.slice(2)
  const r = await cacheSlow({ hits: Number(hits), strategy: strategy as 'memory' | 'redis' })
  const f = (ms: number) => `${ms.toFixed(2)} ms`
  console.log(`proxy-cache on the demo slow service (${strategy} strategy)`)
  console.log(
    `  miss (upstream ~120 ms): first ${f(r.missMs)} (cold process); warm misses p50 ${f(r.warmMissMs.p50)} max ${f(r.warmMissMs.max)} over ${r.warmMissMs.n}`,
  )
  console.log(
    `  hit over ${r.hits} requests:  p50 ${f(r.hitMs.p50)}  p90 ${f(r.hitMs.p90)}  p99 ${f(r.hitMs.p99)}  max ${f(r.hitMs.max)}   (goal: p50 < 2 ms)`,
  )
  console.log(
    `  X-Cache-Status: ${JSON.stringify(r.statuses)}; requests that reached the slow service: ${r.upstreamRequests}`,
  )
  if (r.redisDuringHits !== null) {
    const n = Object.values(r.redisDuringHits).reduce((a, b) => a + b, 0)
    console.log(
      `  Redis commands during the ${r.hits} hits (INFO commandstats): ${n} ${JSON.stringify(r.redisDuringHits)} (the in-process tier re-reads Redis at most once a second per key)`,
    )
  }
}

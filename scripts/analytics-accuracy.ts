/**
 * The analytics API's numbers against the truth of a known load (issue 18's must-show):
 * 10,000 requests from 10,000 distinct clients (X-Forwarded-For from a trusted proxy), spread
 * over 5 consumers (key-auth) and three statuses chosen per request, to an upstream that waits
 * a known delay per request (20…120 ms). Prints, for the whole load and per consumer, the
 * counts per status class (must be exact), p50/p95/p99 against the exact percentiles of the
 * latencies the gateway measured (each request's own `requestMs`, kept in full by a second
 * observer: the sketch, the flushes and the API must stay within 2 % of it), beside the
 * delays asked of the upstream and what the client saw (on a busy machine the event loop adds
 * its lag to both), and unique clients (within 2 %).
 *
 *   node dist/scripts/analytics-accuracy.js [requests=10000] [concurrency=40]
 *
 * With REDIS_URL set, the node flushes to that Redis (PFADD/PFCOUNT for the uniques) under a
 * fresh key prefix; otherwise analytics stay in memory (Portico's own HyperLogLog).
 */
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { DEFAULT_ANALYTICS } from '../src/analytics/index.js'
import { silentLogger } from '../src/core/logger.js'
import { DEFAULT_SETTINGS, startNode } from '../src/main.js'
import { measure } from '../src/observability/facts.js'
import type { Summary } from '../test/fixtures/analytics.js'
import { upstream } from '../test/fixtures/helpers.js'

const total = Number(process.argv[2] ?? 10_000)
const concurrency = Number(process.argv[3] ?? 20)
const CONSUMERS = 5

const delayOf = (i: number) => 20 + ((i * 37) % 101)
const statusOf = (i: number) => (i % 20 === 0 ? 500 : i % 10 === 5 ? 404 : 200)
const clientOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
const pct = (sorted: number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))]!

const slow = await upstream('delay', (req, res) => {
  const q = new URL(req.url!, 'http://x').searchParams
  setTimeout(
    () => {
      res.writeHead(Number(q.get('s')), { 'content-type': 'text/plain' })
      res.end('ok')
    },
    Number(q.get('d')),
  )
})
const consumers = Array.from({ length: CONSUMERS }, (_, c) => `user${c}`)
const yaml = `
_format_version: "3.0"
services:
  - name: delayed
    url: ${slow.url}
    routes:
      - name: delayed-route
        paths: [/d]
        plugins: [{ name: key-auth }]
consumers:
${consumers.map((u) => `  - username: ${u}\n    keyauth_credentials: [{ key: key-${u} }]`).join('\n')}
`
const { writeConfig } = await import('../test/fixtures/helpers.js')
const redisUrl = process.env.REDIS_URL
const node = await startNode(
  {
    ...DEFAULT_SETTINGS,
    proxy: { host: '127.0.0.1', port: 0 },
    status: null,
    admin: { host: '127.0.0.1', port: 0 },
    declarativeConfig: writeConfig(yaml),
    trustedIps: '127.0.0.1',
    redisUrl,
    keyPrefix: `portico-accuracy-${randomUUID().slice(0, 8)}:`,
    analytics: { ...DEFAULT_ANALYTICS, flushMs: 1000 },
  },
  silentLogger,
)
// the exact latency of every request, as the gateway measured it (the analytics observer's own input)
const measured: number[] = []
node.gateway.observers.push((ctx) => {
  if (ctx.route !== null) measured.push(measure(ctx, performance.now()).requestMs)
})
const proxy = `http://127.0.0.1:${node.proxy.port}`
const admin = `http://127.0.0.1:${node.admin!.port}`

// the truth, as sent and as received
const truth = new Map<string, { n: number; classes: Record<string, number> }>()
const delays: number[] = []
const seen: number[] = []
const started = Date.now() / 1000
let next = 0
const worker = async () => {
  while (next < total) {
    const i = next++
    const t0 = performance.now()
    const user = consumers[i % CONSUMERS]!
    const res = await request(`${proxy}/d/x?d=${delayOf(i)}&s=${statusOf(i)}`, {
      headers: { apikey: `key-${user}`, 'x-forwarded-for': clientOf(i) },
    })
    await res.body.dump()
    seen.push(performance.now() - t0)
    if (res.statusCode !== statusOf(i)) throw new Error(`request ${i}: ${res.statusCode}`)
    delays.push(delayOf(i))
    for (const key of ['all', user]) {
      const t = truth.get(key) ?? { n: 0, classes: {} }
      t.n++
      const cls = `${Math.floor(res.statusCode / 100)}xx`
      t.classes[cls] = (t.classes[cls] ?? 0) + 1
      truth.set(key, t)
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker))
const seconds = Date.now() / 1000 - started

const get = async (path: string) => {
  const res = await request(`${admin}${path}`)
  return (await res.body.json()) as Summary
}
const from = Math.floor(started) - 60
const rows: string[][] = [['entity', 'metric', 'truth', 'API', 'error']]
const err = (a: number, b: number) =>
  b === 0 ? (a === 0 ? '0' : '∞') : `${((Math.abs(a - b) / b) * 100).toFixed(2)} %`
let exact = true
let within = true
for (const key of ['all', ...consumers]) {
  const s = await get(`/analytics/summary?from=${from}&entity=${key === 'all' ? 'all' : `consumer:${key}`}`)
  const t = truth.get(key)!
  rows.push([key, 'requests', String(t.n), String(s.requests), t.n === s.requests ? 'exact' : 'WRONG'])
  exact &&= t.n === s.requests
  for (const cls of ['2xx', '4xx', '5xx']) {
    const want = t.classes[cls] ?? 0
    rows.push([key, cls, String(want), String(s.status[cls]), want === s.status[cls] ? 'exact' : 'WRONG'])
    exact &&= want === s.status[cls]
  }
  if (key === 'all') {
    const sorted = (list: number[]) => [...list].sort((a, b) => a - b)
    const [gw, asked, client] = [sorted(measured), sorted(delays), sorted(seen)]
    for (const q of ['p50', 'p95', 'p99'] as const) {
      const at = Number(q.slice(1)) / 100
      const want = pct(gw, at)
      const got = s.latency_ms[q] as number
      rows.push([key, `${q} ms (gateway-measured)`, want.toFixed(3), String(got), err(got, want)])
      rows.push([
        '',
        `${q} ms (delay asked / client saw)`,
        `${pct(asked, at)} / ${pct(client, at).toFixed(1)}`,
        '',
        '',
      ])
      if (q === 'p95') within &&= Math.abs(got - want) / want <= 0.02
    }
    const u = s.unique_clients.day as number
    rows.push([key, 'unique clients (day)', String(total), String(u), err(u, total)])
    within &&= Math.abs(u - total) / total <= 0.02
  }
}
const width = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
console.log(
  `${total} requests, ${concurrency} at a time, in ${seconds.toFixed(1)} s; analytics on ${redisUrl === undefined ? 'memory' : 'Redis'}`,
)
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c]!)).join('  '))
console.log(`counts exact: ${exact ? 'yes' : 'NO'}; p95 and uniques within 2 %: ${within ? 'yes' : 'NO'}`)
await node.stop()
await slow.close()
process.exit(exact && within ? 0 : 1)

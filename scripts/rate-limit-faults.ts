/**
 * Redis faults under load: a gateway whose route is rate-limited in Redis (limit never reached,
 * fault_tolerant), clients sending continuously, and a redis-server of our own that is killed,
 * restarted, then paused with CLIENT PAUSE. Prints, per phase, the requests, how many carried a
 * verdict (rate-limit headers), their latencies (max and p99), and how long after Redis came
 * back the limits applied again.
 *
 *   node dist/scripts/rate-limit-faults.js [clients=16] [deadlineMs=50]
 */
import { Pool } from 'undici'
import { RATE_LIMITING_STATS, type RateLimitingStats } from '../src/plugins/rate-limiting/stats.js'
import { gateway, sleep, upstream } from '../test/fixtures/helpers.js'
import { startOwnRedis } from './rate-limit-redis.js'

const [CLIENTS = 16, DEADLINE = 50] = process.argv.slice(2).map(Number)

const redis = await startOwnRedis()
const up = await upstream('up', (_req, res) => res.end('ok'))
const gw = await gateway(
  `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: rl
        paths: [/rl]
        plugins:
          - name: rate-limiting
            config: { second: 1000000, minute: 1000000000, limit_by: ip, policy: redis }
`,
  { redisUrl: redis.url, redisDeadlineMs: DEADLINE },
)
const stats = gw.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, () => ({}) as never)
const pool = new Pool(gw.url, { connections: CLIENTS })

interface Sample {
  at: number
  ms: number
  limited: boolean
  status: number
}
const samples: Sample[] = []
let running = true
const t0 = performance.now()
const now = () => performance.now() - t0

async function client(): Promise<void> {
  while (running) {
    const start = performance.now()
    const r = await pool.request({ path: '/rl', method: 'GET' })
    await r.body.dump()
    samples.push({
      at: start - t0,
      ms: performance.now() - start,
      limited: r.headers['x-ratelimit-limit-second'] !== undefined,
      status: r.statusCode,
    })
  }
}

const phases: Array<{ name: string; from: number; to: number }> = []
async function phase(name: string, ms: number, action?: () => Promise<void>): Promise<number> {
  const from = now()
  await action?.()
  await sleep(ms)
  phases.push({ name, from, to: now() })
  return from
}

const loops = Array.from({ length: CLIENTS }, () => client())
await phase('normal', 1500)
await phase('Redis killed', 2000, () => redis.kill())
const restartedAt = await phase('Redis restarted', 3000, () => redis.start())
await phase('normal', 1000)
const pauseMs = 2000
const pausedAt = await phase('CLIENT PAUSE 2000 ms', pauseMs, () => redis.pause(pauseMs))
await phase('after the pause', 2000)
running = false
await Promise.all(loops)

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}
console.log(`${CLIENTS} clients, Redis deadline ${DEADLINE} ms, breaker 250 ms\n`)
console.log('phase                    requests  with verdict  non-200   p99 ms   max ms')
for (const p of phases) {
  const xs = samples.filter((s) => s.at >= p.from && s.at < p.to)
  const ms = xs.map((s) => s.ms)
  console.log(
    `${p.name.padEnd(24)} ${String(xs.length).padStart(8)}  ${String(xs.filter((s) => s.limited).length).padStart(12)}  ${String(xs.filter((s) => s.status !== 200).length).padStart(7)}  ${pct(ms, 99).toFixed(1).padStart(7)}  ${Math.max(
      0,
      ...ms,
    )
      .toFixed(1)
      .padStart(7)}`,
  )
}
const backAfter = (from: number) => {
  const first = samples.find((s) => s.at >= from && s.limited)
  return first === undefined ? 'never' : `${(first.at - from).toFixed(0)} ms`
}
console.log(`\nlimits applied again ${backAfter(restartedAt)} after the restart`)
console.log(`limits applied again ${backAfter(pausedAt + pauseMs)} after the pause ended`)
console.log(`store stats: ${JSON.stringify(stats)}`)

await pool.close()
await gw.stop()
await up.close()
await redis.stop()

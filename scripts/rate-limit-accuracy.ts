/**
 * Accuracy across nodes: three gateway nodes (one process, each with its own Redis connection)
 * share one Redis; many concurrent clients offer several times the limit, spread over the
 * nodes. Each round uses a fresh client key (limit_by header), so a round is exactly one window
 * of an hourly limit L; the script prints accepted / L per round. The goal with policy redis is
 * exactly 1.000; the local policy counts per node, so three nodes admit up to 3 × L.
 *
 *   node dist/scripts/rate-limit-accuracy.js [L=500] [rounds=5] [clients=60] [offered=4]
 *
 * REDIS_URL selects the Redis; without it the script starts its own redis-server.
 * RL_DEADLINE_MS (default 500) is the nodes' Redis deadline: on a busy machine a call can miss
 * 50 ms, and a request that misses it passes unlimited (fault_tolerant). Such requests are
 * counted and printed apart: accepted − failed-open is what the verdicts admitted.
 */
import { randomUUID } from 'node:crypto'
import { Pool } from 'undici'
import { RATE_LIMITING_STATS, type RateLimitingStats } from '../src/plugins/rate-limiting/stats.js'
import { gateway, upstream } from '../test/fixtures/helpers.js'
import { startOwnRedis } from './rate-limit-redis.js'

const [L = 500, ROUNDS = 5, CLIENTS = 60, OFFERED = 4] = process.argv.slice(2).map(Number)

const VARIANTS = [
  { policy: 'redis', algorithm: 'fixed-window' },
  { policy: 'redis', algorithm: 'sliding-window' },
  { policy: 'redis', algorithm: 'token-bucket' },
  { policy: 'local', algorithm: 'fixed-window' },
] as const

const config = (url: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
${VARIANTS.map(
  (v) => `      - name: ${v.policy}-${v.algorithm}
        paths: [/${v.policy}/${v.algorithm}]
        plugins:
          - name: rate-limiting
            config: { hour: ${L}, limit_by: header, header_name: x-client, policy: ${v.policy}, algorithm: ${v.algorithm} }`,
).join('\n')}
`

const own = process.env.REDIS_URL === undefined ? await startOwnRedis() : null
const redisUrl = process.env.REDIS_URL ?? own!.url
const up = await upstream('up', (_req, res) => res.end('ok'))
const keyPrefix = `rlacc:${randomUUID()}:`
const redisDeadlineMs = Number(process.env.RL_DEADLINE_MS ?? 500)
const nodes = await Promise.all(
  [0, 1, 2].map(() => gateway(config(up.url), { redisUrl, keyPrefix, redisDeadlineMs })),
)
const failedOpen = () =>
  nodes.reduce(
    (n, node) =>
      n + node.services.shared<RateLimitingStats>(RATE_LIMITING_STATS, () => ({}) as never).failedOpen,
    0,
  )
const pools = nodes.map((n) => new Pool(n.url, { connections: Math.ceil(CLIENTS / 3) }))

console.log(
  `3 nodes on one Redis (deadline ${redisDeadlineMs} ms); limit L = ${L} per window; ${OFFERED * L} requests offered per window by ${CLIENTS} concurrent clients\n`,
)
console.log('policy  algorithm        accepted / L per window                       mean   failed open')
for (const v of VARIANTS) {
  const ratios: number[] = []
  const openBefore = failedOpen()
  for (let round = 0; round < ROUNDS; round++) {
    const client = randomUUID()
    const hourBefore = Math.floor(Date.now() / 3_600_000)
    let next = 0
    let accepted = 0
    let other = 0
    const worker = async (w: number) => {
      const pool = pools[w % 3]!
      while (next < OFFERED * L) {
        next++
        const r = await pool.request({
          path: `/${v.policy}/${v.algorithm}`,
          method: 'GET',
          headers: { 'x-client': client },
        })
        await r.body.dump()
        if (r.statusCode === 200) accepted++
        else if (r.statusCode !== 429) other++
      }
    }
    await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)))
    if (other > 0) console.log(`  ${other} answers were neither 200 nor 429`)
    if (Math.floor(Date.now() / 3_600_000) !== hourBefore)
      console.log('  (this round crossed an hour boundary)')
    ratios.push(accepted / L)
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length
  console.log(
    `${v.policy.padEnd(7)} ${v.algorithm.padEnd(16)} ${ratios
      .map((r) => r.toFixed(3))
      .join('  ')
      .padEnd(45)} ${mean.toFixed(3)}  ${failedOpen() - openBefore}`,
  )
}
console.log(
  '\nlocal: each node counts alone, so N nodes admit up to N × L (here up to 3.000) depending on how clients spread.',
)
console.log(
  'token-bucket: L + the tokens that refill while the round runs (L per hour: under one per round).',
)

await Promise.all(pools.map((p) => p.close()))
await Promise.all(nodes.map((n) => n.stop()))
await up.close()
await own?.stop()

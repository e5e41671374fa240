/**
 * A node-wide local limit under load: `portico start --workers 4` with `rate-limiting`
 * `{ minute: 100, policy: local }` on one route (limit_by service: one counter for everyone),
 * and clients sending 1,000 requests on keep-alive connections spread over the workers.
 * Prints how many were admitted (the goal: exactly 100) and how each worker's share looked.
 *
 *   node dist/scripts/workers-limit.js [workers=4] [requests=1000] [connections=16] [algorithm=fixed-window]
 */
import { Pool } from 'undici'
import { sleep, upstream } from '../test/fixtures/helpers.js'
import { get, startWorkers } from '../test/fixtures/workers.js'

const args = process.argv.slice(2)
const workers = Number(args[0] ?? 4)
const requests = Number(args[1] ?? 1000)
const connections = Number(args[2] ?? 16)
const algorithm = args[3] ?? 'fixed-window'

const up = await upstream('up')
const node = await startWorkers(
  workers,
  `_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: limited
        paths: [/limited]
        plugins:
          - { name: rate-limiting, config: { minute: 100, policy: local, limit_by: service, algorithm: ${algorithm} } }
`,
)
// one burst inside one minute window: wait past the boundary when it is near
const left = 60_000 - (Date.now() % 60_000)
if (left < 20_000) await sleep(left + 100)

const pool = new Pool(`http://127.0.0.1:${node.proxy}`, { connections })
const counts = new Map<number, number>()
let next = 0
const started = performance.now()
const lane = async () => {
  for (let i = next++; i < requests; i = next++) {
    let status = 0
    try {
      const res = await pool.request({ path: '/limited', method: 'GET' })
      await res.body.dump()
      status = res.statusCode
    } catch {}
    counts.set(status, (counts.get(status) ?? 0) + 1)
  }
}
await Promise.all(Array.from({ length: connections }, lane))
const ms = performance.now() - started
const metrics = (await get(node.status, '/metrics')).body
const allowed = metrics
  .split('\n')
  .find((l) => l.startsWith('portico_rate_limit_requests_total{outcome="allowed"}'))
console.log(
  JSON.stringify(
    {
      workers,
      algorithm,
      limit: '100/minute (local policy, node-wide)',
      requests,
      admitted: counts.get(200) ?? 0,
      refused_429: counts.get(429) ?? 0,
      failed: counts.get(0) ?? 0,
      ms: Math.round(ms),
      node_metric: allowed ?? null,
      // the workers' quota questions to the primary (one per block, never one per request)
      quota_questions: Number(
        /^portico_workers_messages_total\{topic="rate-limiting\.take"\} (\d+)$/m.exec(metrics)?.[1] ?? 0,
      ),
    },
    null,
    2,
  ),
)
await pool.close()
await node.stop()
await up.close()

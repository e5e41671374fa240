/**
 * How fast a failing service is cut off across a cluster: three gateway nodes on one Redis
 * (in this process, each with its own Redis connections and subscriber), one upstream, the same
 * open-loop load on every node. The load warms up for a second on a route without a breaker,
 * then goes to the guarded route, whose upstream answers 503 to everything (so the breaker's
 * window holds only the outage: `minimum_calls` decides, not earlier successes). Printed per policy (redis, then local): the time from the upstream's first
 * failure until every node fails fast (its first answer from the breaker), each node's time,
 * and the calls the failing upstream received in that time.
 *
 *   node dist/scripts/breaker-propagation.js [ratePerNode=100] [redisUrl=$REDIS_URL|redis://127.0.0.1:6379]
 *
 * The breaker is the default one (window 10 s, minimum_calls 20, failure rate 50 %), open for
 * 30 s: with `local` each node needs its own 20 failures; with `redis` the cluster needs 20.
 */
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { silentLogger } from '../src/core/logger.js'
import { DEFAULT_SETTINGS, type PorticoNode, startNode } from '../src/main.js'
import { writeConfig } from '../test/fixtures/helpers.js'

const RATE = Number(process.argv[2] ?? 100)
const REDIS = process.argv[3] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Upstream {
  url: string
  /** performance.now() of the first failing answer, NaN before */
  firstFailure: number
  failing: boolean
  /** answers given while failing, with when */
  failures: number[]
  close(): Promise<void>
}

async function upstream(): Promise<Upstream> {
  const u: Upstream = {
    url: '',
    firstFailure: Number.NaN,
    failing: false,
    failures: [],
    close: async () => {},
  }
  const server = http.createServer((req, res) => {
    req.resume()
    if (!u.failing || req.url?.startsWith('/warm')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      return
    }
    const now = performance.now()
    if (Number.isNaN(u.firstFailure)) u.firstFailure = now
    u.failures.push(now)
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"ok":false}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  u.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  u.close = () =>
    new Promise((r) => {
      server.closeAllConnections()
      server.close(() => r())
    })
  return u
}

const config = (url: string, policy: string) => `_format_version: "3.0"
services:
  - id: 0b7d3c1e-5d1a-4f4e-9c1a-0000000000b1
    name: origin
    url: ${url}
    retries: 0
    routes: [{ name: origin, paths: [/origin] }]
  - name: warm
    url: ${url}/warm
    routes: [{ name: warm, paths: [/warm] }]
plugins:
  - id: 0b7d3c1e-5d1a-4f4e-9c1a-0000000000c1
    name: circuit-breaker
    service: origin
    config: { policy: ${policy}, open_seconds: 30, response: { headers: { X-Breaker: open } } }
`

interface Result {
  policy: string
  /** per node: ms from the first failure to its first fast failure */
  nodes: number[]
  all: number
  upstreamCalls: number
  sent: number
}

async function run(policy: 'redis' | 'local'): Promise<Result> {
  const up = await upstream()
  const file = writeConfig(config(up.url, policy))
  const keyPrefix = `cb-propagation-${randomBytes(4).toString('hex')}:`
  const nodes: PorticoNode[] = []
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await startNode(
        {
          ...DEFAULT_SETTINGS,
          proxy: { host: '127.0.0.1', port: 0 },
          status: null,
          declarativeConfig: file,
          redisUrl: REDIS,
          keyPrefix,
          redisDeadlineMs: 200,
          analytics: null,
          metrics: false,
        },
        silentLogger,
      ),
    )
  }
  const pools = nodes.map((n) => new Pool(`http://127.0.0.1:${n.proxy.port}`, { connections: 32 }))
  const fastAt: number[] = nodes.map(() => Number.NaN)
  let sent = 0
  let inflight = 0
  let path = '/warm'
  const send = (i: number) => {
    if (inflight > 200) return
    inflight++
    sent++
    pools[i]!.request({ path, method: 'GET' }).then(
      async (r) => {
        await r.body.dump()
        inflight--
        if (r.headers['x-breaker'] === 'open' && Number.isNaN(fastAt[i]!)) fastAt[i] = performance.now()
      },
      () => {
        inflight--
      },
    )
  }
  // open loop: every node gets RATE requests a second, spread over 10 ms ticks
  const perTick = RATE / 100
  let owed = 0
  const timer = setInterval(() => {
    owed += perTick
    while (owed >= 1) {
      owed--
      for (let i = 0; i < nodes.length; i++) send(i)
    }
  }, 10)
  await new Promise((r) => setTimeout(r, 1000))
  up.failing = true
  path = '/origin'
  const deadline = performance.now() + 15_000
  while (fastAt.some(Number.isNaN) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  clearInterval(timer)
  const all = Math.max(...fastAt)
  const result: Result = {
    policy,
    nodes: fastAt.map((t) => t - up.firstFailure),
    all: all - up.firstFailure,
    upstreamCalls: up.failures.filter((t) => t <= all).length,
    sent,
  }
  await Promise.all(pools.map((p) => p.close()))
  await Promise.all(nodes.map((n) => n.stop()))
  await up.close()
  return result
}

const results: Result[] = []
for (const policy of ['redis', 'local'] as const) results.push(await run(policy))
const f = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(1) : 'never (15 s)')
process.stdout.write(
  `three nodes on ${REDIS.replace(/\/\/[^@]*@/, '//***@')}, ${RATE} req/s per node, breaker defaults (window 10 s, minimum_calls 20, 50 %)\n\n` +
    '| policy | first failure → every node fails fast (ms) | per node (ms) | calls the failing upstream received meanwhile |\n' +
    '|---|---:|---|---:|\n' +
    results
      .map((r) => `| ${r.policy} | ${f(r.all)} | ${r.nodes.map(f).join(' / ')} | ${r.upstreamCalls} |`)
      .join('\n') +
    '\n',
)
process.exit(0)

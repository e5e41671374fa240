/**
 * Accuracy and Redis cost of the redis policy, leasing against one call per request: three
 * gateway nodes (each its own process) on one Redis, L per window, OFFERED × L requests offered
 * per window by CLIENTS concurrent clients spread over the nodes. A window is one round on a
 * fresh client key of an hourly limit (so a round is exactly one window of L). Per variant:
 * accepted / L per window, and Redis script calls per admitted request (`INFO commandstats`:
 * EVALSHA + EVAL, lease returns included). Then the same with one node SIGKILLed mid-window
 * (when a quarter of the offered requests are answered): its clients move to the other nodes,
 * and what it held of a lease is lost until the window ends.
 *
 *   node dist/scripts/rate-limit-lease.js [L=500] [windows=5] [clients=60] [offered=4] [modes=lease,per-request]
 *
 * `modes` picks the variants (`lease` alone keeps a run of the defaults under two minutes).
 *
 * It starts its own redis-server (the counts must be this script's alone).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { upstream, writeConfig } from '../test/fixtures/helpers.js'
import { startOwnRedis } from './rate-limit-redis.js'

const [L = 500, WINDOWS = 5, CLIENTS = 60, OFFERED = 4] = process.argv.slice(2, 6).map(Number)
const MODES = (process.argv[6] ?? 'lease,per-request').split(',')

const VARIANTS = [
  { name: 'lease', algorithm: 'fixed-window', lease: true },
  { name: 'lease', algorithm: 'sliding-window', lease: true },
  { name: 'lease', algorithm: 'token-bucket', lease: true },
  { name: 'per-request', algorithm: 'fixed-window', lease: false },
  { name: 'per-request', algorithm: 'sliding-window', lease: false },
  { name: 'per-request', algorithm: 'token-bucket', lease: false },
] as const
const RUN = VARIANTS.filter((v) => MODES.includes(v.name))
type Variant = (typeof VARIANTS)[number]
const pathOf = (v: Variant) => `/${v.name}/${v.algorithm}`

const up = await upstream('up', (_req, res) => res.end('ok'))
const file = writeConfig(`
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
${VARIANTS.map(
  (v) => `      - name: ${v.name}-${v.algorithm}
        paths: [${pathOf(v)}]
        plugins:
          - name: rate-limiting
            config: { hour: ${L}, limit_by: header, header_name: x-client, policy: redis, algorithm: ${v.algorithm}, lease: ${v.lease} }`,
).join('\n')}
`)
const redis = await startOwnRedis()
const prefix = `rllease:${randomUUID()}:`
const nodeScript = fileURLToPath(new URL('./rate-limit-node.js', import.meta.url))

interface Node {
  child: ChildProcess
  pool: Pool
  alive: boolean
}
async function startNode(): Promise<Node> {
  const child = spawn(process.execPath, [nodeScript, file, redis.url, prefix, '500'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`node exited (${code}) before serving`)))
  })
  const { url } = JSON.parse(line) as { url: string }
  return { child, pool: new Pool(url, { connections: Math.ceil(CLIENTS / 3) }), alive: true }
}

async function scriptCalls(): Promise<number> {
  const info = await redis.admin.info('commandstats')
  let n = 0
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) n += Number(m[2])
  return n
}

interface Round {
  accepted: number
  /** admitted without a verdict (the store failed and fault_tolerant let it through) */
  failedOpen: number
  other: number
}

/** One window: OFFERED × L requests; `kill` SIGKILLs node 2 once a quarter were answered. */
async function round(nodes: Node[], v: Variant, kill: boolean): Promise<Round> {
  const client = randomUUID()
  const total = OFFERED * L
  let sent = 0
  let answered = 0
  const r: Round = { accepted: 0, failedOpen: 0, other: 0 }
  const worker = async (w: number) => {
    while (sent < total) {
      sent++
      let node = nodes[w % 3]!
      if (!node.alive) node = nodes[w % 2]!
      try {
        const res = await node.pool.request({
          path: pathOf(v),
          method: 'GET',
          headers: { 'x-client': client },
        })
        await res.body.dump()
        if (res.statusCode === 200) {
          r.accepted++
          if (res.headers['x-ratelimit-limit-hour'] === undefined) r.failedOpen++
        } else if (res.statusCode !== 429) r.other++
      } catch {
        sent-- // the node died under this request: the client sends it again elsewhere
        continue
      }
      answered++
      if (kill && answered === Math.floor(total / 4) && nodes[2]!.alive) {
        nodes[2]!.alive = false
        nodes[2]!.child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)))
  return r
}

console.log(
  `3 nodes (processes) on one Redis; L = ${L} per window; ${OFFERED * L} offered per window by ${CLIENTS} concurrent clients; ${WINDOWS} windows\n`,
)
console.log(
  'mode         algorithm       node killed  accepted / L per window             min    max    Redis calls / admitted  failed open',
)
const nodes = await Promise.all([0, 1, 2].map(() => startNode()))
for (const kill of [false, true]) {
  for (const v of RUN) {
    const ratios: number[] = []
    let admitted = 0
    let failedOpen = 0
    let other = 0
    let calls = 0
    for (let w = 0; w < WINDOWS; w++) {
      if (!nodes[2]!.alive) {
        await nodes[2]!.pool.close()
        nodes[2] = await startNode()
      }
      const before = await scriptCalls()
      const r = await round(nodes, v, kill)
      // idle leases go back within a second: their returns are counted with the window
      await new Promise((res) => setTimeout(res, 1500))
      calls += (await scriptCalls()) - before
      ratios.push(r.accepted / L)
      admitted += r.accepted
      failedOpen += r.failedOpen
      other += r.other
    }
    const line = [
      v.name.padEnd(12),
      v.algorithm.padEnd(15),
      (kill ? 'yes' : 'no').padEnd(12),
      ratios
        .map((x) => x.toFixed(3))
        .join(' ')
        .padEnd(35),
      Math.min(...ratios).toFixed(3),
      ` ${Math.max(...ratios).toFixed(3)}`,
      `  ${(calls / admitted).toFixed(4)}`.padEnd(24),
      String(failedOpen),
      other > 0 ? `  (${other} answers neither 200 nor 429)` : '',
    ]
    console.log(line.join(' '))
  }
}

for (const n of nodes) {
  await n.pool.close()
  if (n.alive) n.child.kill('SIGTERM')
}
await up.close()
await redis.stop()

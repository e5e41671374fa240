/**
 * `npm run bench:peers`: the README's performance table, from one command. The peers harness
 * (`../shared/bench/peers.mjs`: wrk, one core for the system under test, one for wrk) measures
 * the Node peers and Portico's rows; Portico is started by the harness as a user starts it,
 * `portico start --config bench/peers.yaml`, with the machine's Redis.
 *
 * Rows are paired with their reference inside each round (this machine drifts by tens of
 * percent within minutes, so a ratio of two medians taken minutes apart says little): per round,
 * plain ÷ node-floor, fastify ÷ node-floor, every plugin row ÷ plain, p99 ÷ node-floor's p99;
 * the table prints the median of each over the rounds, with its min–max.
 *
 * One round is two harness runs back to back: the first with every row but the access-log one;
 * the second with the node started with `PORTICO_ACCESS_LOG` (the access log is node-wide, so it
 * gets its own process) for the prometheus + access log row, paired with the first run's plain.
 *
 *   npm run bench:peers                         # ROUNDS=3 DURATION=8 WARMUP=4
 *   ROUNDS=1 DURATION=3 WARMUP=1 npm run bench:peers
 *   npm run bench:peers -- --readme             # also rewrites the README's table
 *
 * Knobs: ROUNDS, DURATION, WARMUP, CONNS (passed to the harness), HARNESS (path of peers.mjs),
 * REDIS_PORT (default 6390: the harness starts and pins its own redis-server there when the port
 * is free), PORT / BACKEND_PORT (the harness's). Results:
 * `bench/results/<date>-peers.{json,md}`.
 */
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const env = process.env
const REPO = resolve(import.meta.dirname, '../..')
const ROUNDS = Number(env.ROUNDS ?? 3)
const DURATION = env.DURATION ?? '8'
const WARMUP = env.WARMUP ?? '4'
const PORT = env.PORT ?? '8080'
const BACKEND_PORT = env.BACKEND_PORT ?? '9001'
// a port of its own by default: the harness starts (and pins) a redis-server there when it is
// free, so the Redis column counts Portico's commands only
const REDIS_PORT = env.REDIS_PORT ?? '6390'
const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`
const HARNESS =
  env.HARNESS ??
  [resolve(REPO, '../shared/bench/peers.mjs'), '/work/shared/bench/peers.mjs'].find((p) => existsSync(p))
if (HARNESS === undefined) throw new Error('peers.mjs not found: set HARNESS=/path/to/peers.mjs')
const README = process.argv.includes('--readme')

// the jwt row's token: HS256 over fixed claims (exp in 2100), the secret bench/peers.yaml gives
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
const jwtInput = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64('{"iss":"peer-bench","sub":"bench","exp":4102444800}')}`
const JWT = `${jwtInput}.${b64(createHmac('sha256', 'peer-bench-hs256-secret-0123456789abcdef').update(jwtInput).digest())}`

/** Portico's rows: name, path, request headers, what the row is compared with, the table's label. */
const ROWS = [
  { name: 'plain', path: '/json', ref: 'node-floor', label: 'plain route' },
  { name: 'keyed', path: '/keyed/json|apikey:k1', ref: 'plain', label: 'key-auth' },
  { name: 'jwt', path: `/jwt/json|authorization:Bearer ${JWT}`, ref: 'plain', label: 'jwt HS256' },
  { name: 'rl-local', path: '/rl-local/json', ref: 'plain', label: 'rate-limiting, local' },
  { name: 'rl-redis', path: '/rl-redis/json', ref: 'plain', label: 'rate-limiting, redis (leasing)' },
  {
    name: 'rl-redis-pr',
    path: '/rl-redis-pr/json',
    ref: 'plain',
    label: 'rate-limiting, redis (per request)',
  },
  { name: 'cached', path: '/cached/json', ref: 'plain', label: 'proxy-cache hit (memory)' },
  {
    name: 'combo',
    path: '/combo/json|apikey:k1',
    ref: 'plain',
    label: 'key-auth + redis limit + correlation-id',
  },
] as const
const OBSERVED = { name: 'observed', path: '/observed/json', ref: 'plain', label: 'prometheus + access log' }
const PEERS = [
  { name: 'node-floor', ref: null, label: 'node-floor' },
  { name: 'fastify', ref: 'node-floor', label: 'fastify + http-proxy' },
] as const

const work = mkdtempSync(join(tmpdir(), 'portico-bench-peers-'))
const config = join(work, 'peers.yaml')
writeFileSync(
  config,
  readFileSync(join(REPO, 'bench/peers.yaml'), 'utf8').replaceAll(':9001', `:${BACKEND_PORT}`),
)
const portico = (extra: string) =>
  `env PORTICO_PROXY_LISTEN=127.0.0.1:${PORT} PORTICO_ADMIN_LISTEN=127.0.0.1:0 PORTICO_STATUS_LISTEN=127.0.0.1:0 ` +
  `PORTICO_REDIS_URL=${REDIS_URL} PORTICO_LOG_LEVEL=warn PORTICO_WORKERS=1 ${extra}node ${join(REPO, 'bin/portico.js')} start --config ${config}`

interface Run {
  name: string
  rps: number
  p99: number
  proxyCpuUsPerReq: number | null
  redisPerReq: Record<string, number> | null
  errors: number
  non2xx: number
}

/** One harness run (ROUNDS=1); resolves with its per-row results. */
function harness(
  only: string[],
  rows: ReadonlyArray<{ name: string; path: string }>,
  cmd: string,
): Promise<Run[]> {
  const out = mkdtempSync(join(work, 'run-'))
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [HARNESS!], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...env,
        ROUNDS: '1',
        REDIS_PORT,
        DURATION,
        WARMUP,
        OUT_DIR: out,
        RUN_DIR: join(out, 'run'),
        ONLY: only.join(','),
        GATEWAY_CMD: cmd,
        GATEWAY_ROWS: rows.map((r) => `${r.name}=${r.path}`).join(';'),
      },
    })
    child.on('exit', () => {
      const f = readdirSync(out).find((n) => n.endsWith('.json'))
      if (f === undefined) return rej(new Error(`the harness wrote no result (${out})`))
      const { runs } = JSON.parse(readFileSync(join(out, f), 'utf8')) as { runs: Run[] }
      res(runs)
    })
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const rounds: Array<Record<string, Run>> = []
for (let r = 1; r <= ROUNDS; r++) {
  console.error(`round ${r}/${ROUNDS}`)
  const main = await harness([...PEERS.map((p) => p.name), ...ROWS.map((x) => x.name)], ROWS, portico(''))
  const logged = await harness(
    [OBSERVED.name],
    [OBSERVED],
    portico(`PORTICO_ACCESS_LOG=${join(work, 'access.log')} `),
  )
  rounds.push(Object.fromEntries([...main, ...logged].map((x) => [x.name, x])))
}

interface Line {
  label: string
  rps: number[]
  ratio: number[]
  p99: number[]
  p99Ratio: number[]
  cpu: number[]
  ref: string | null
  redis: Record<string, number> | null
  errors: number
}
const lines: Line[] = [...PEERS, ...ROWS, OBSERVED].map((row) => {
  const l: Line = {
    label: row.label,
    rps: [],
    ratio: [],
    p99: [],
    p99Ratio: [],
    cpu: [],
    ref: row.ref,
    redis: null,
    errors: 0,
  }
  for (const round of rounds) {
    const x = round[row.name]
    if (x === undefined) continue
    l.rps.push(x.rps)
    l.p99.push(x.p99)
    if (x.proxyCpuUsPerReq !== null) l.cpu.push(x.proxyCpuUsPerReq)
    l.redis ??= x.redisPerReq
    l.errors += x.errors + x.non2xx
    const floor = round['node-floor']
    if (floor !== undefined) l.p99Ratio.push(x.p99 / floor.p99)
    const ref = row.ref === null ? undefined : round[row.ref]
    if (ref !== undefined) l.ratio.push(x.rps / ref.rps)
  }
  return l
})

const range = (xs: number[], d: number) =>
  xs.length === 0
    ? ''
    : `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`
const date = new Date().toISOString()
const table = [
  `| row | req/s | ratio | against | p99 ms | p99 ÷ node-floor | proxy CPU µs/req | Redis commands per request |`,
  `|---|---:|---:|---|---:|---:|---:|---|`,
  ...lines.map(
    (l) =>
      `| ${l.label} | ${range(l.rps, 0)} | ${range(l.ratio, 2)} | ${l.ref ?? ''} | ${range(l.p99, 1)} | ${range(l.p99Ratio, 2)} | ${l.cpu.length === 0 ? '' : median(l.cpu).toFixed(0)} | ${
        l.redis === null
          ? ''
          : Object.entries(l.redis)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')
      }${l.errors > 0 ? ` (errors: ${l.errors})` : ''} |`,
  ),
].join('\n')
const head =
  `${date}: ${ROUNDS} round(s), wrk ${DURATION} s after ${WARMUP} s of warm-up per row, Portico through ` +
  '`portico start --config bench/peers.yaml`; each cell is the median over rounds (min–max), ratios paired per round.'
console.log(`${head}\n\n${table}`)

const results = join(REPO, 'bench/results')
mkdirSync(results, { recursive: true })
const stamp = date.slice(0, 19).replace(/:/g, '-')
writeFileSync(
  join(results, `${stamp}-peers.json`),
  JSON.stringify({ date, ROUNDS, DURATION, WARMUP, rounds }, null, 1),
)
writeFileSync(join(results, `${stamp}-peers.md`), `${head}\n\n${table}\n`)
console.error(`wrote bench/results/${stamp}-peers.{json,md}`)

if (README) {
  const file = join(REPO, 'README.md')
  const text = readFileSync(file, 'utf8')
  const start = '<!-- bench:peers -->'
  const end = '<!-- /bench:peers -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a === -1 || b === -1) throw new Error(`README.md has no ${start} … ${end} block`)
  writeFileSync(file, `${text.slice(0, a + start.length)}\n${head}\n\n${table}\n${text.slice(b)}`)
  console.error('README.md: table rewritten')
}

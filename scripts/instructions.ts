/**
 * CPU instructions per request, counted by valgrind (callgrind): a measure that does not depend
 * on what else the machine runs, for A/B comparisons of the request path. A node runs under
 * `valgrind --tool=callgrind` through `portico start` with a declarative file; the upstream and
 * the client run here, outside valgrind. After a warm-up (the JIT settles), the counters are
 * zeroed, exactly N requests are sent, and the counters are dumped: instructions / N.
 *
 *   node dist/scripts/instructions.js [--repo DIR] [--n 3000] [--warmup 6000] [--conns 8]
 *        [--path /json] [--header name:value] [--env NAME=value] [--config FILE] [--out DIR] [--node-flag F]
 *
 * `--repo` is the checkout whose `bin/portico.js` runs (default: this one), so two builds compare
 * on the same file and the same requests. `--config` defaults to bench/peers.yaml with its
 * upstream on this script's server. The callgrind file is kept in `--out` (callgrind_annotate
 * shows where the instructions go).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { freePort } from './rate-limit-redis.js'

const { values: o } = parseArgs({
  options: {
    repo: { type: 'string', default: process.cwd() },
    n: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '6000' },
    conns: { type: 'string', default: '8' },
    path: { type: 'string', default: '/json' },
    header: { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    config: { type: 'string' },
    out: { type: 'string' },
    'node-flag': { type: 'string', multiple: true, default: [] },
    // cpuprof: no valgrind; node --cpu-prof, and the profile's self time by function and by file
    mode: { type: 'string', default: 'callgrind' },
    top: { type: 'string', default: '25' },
    // another proxy to measure the same way (the peers' node-floor.cjs: PORT and UPSTREAM env)
    peer: { type: 'string' },
  },
})
const PROFILE = o.mode === 'cpuprof'
// run: no valgrind, no profiler (what the node's own flags show, e.g. --trace-gc-nvp)
const RUN = o.mode === 'run'
const N = Number(o.n)
const WARMUP = Number(o.warmup)
const CONNS = Number(o.conns)
const out = o.out ?? mkdtempSync(join(tmpdir(), 'portico-instr-'))
mkdirSync(out, { recursive: true })

// the upstream: nginx's /json of the peers benchmark, answered from memory
const BODY = '{"message":"hello","items":[1,2,3]}'
const upstream = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
  res.end(BODY)
})
upstream.keepAliveTimeout = 60_000
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
const upPort = (upstream.address() as { port: number }).port

const template = readFileSync(o.config ?? resolve(process.cwd(), 'bench/peers.yaml'), 'utf8')
const file = join(out, 'portico.yaml')
writeFileSync(file, template.replaceAll('http://127.0.0.1:9001', `http://127.0.0.1:${upPort}`))
const port = await freePort()
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PORTICO_PROXY_LISTEN: `127.0.0.1:${port}`,
  PORTICO_ADMIN_LISTEN: '127.0.0.1:0',
  PORTICO_STATUS_LISTEN: '127.0.0.1:0',
  PORTICO_LOG_LEVEL: 'warn',
}
for (const e of o.env) env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1)
env.PORT = String(port)
env.UPSTREAM = `http://127.0.0.1:${upPort}`
const portico =
  o.peer === undefined
    ? // one process: what is counted is that process's instructions per request
      [...o['node-flag'], join(o.repo, 'bin/portico.js'), 'start', '--workers', '1', '--config', file]
    : [...o['node-flag'], o.peer]
const child = RUN
  ? spawn(process.execPath, portico, { env, stdio: ['ignore', 'inherit', 'inherit'] })
  : PROFILE
    ? spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${out}`, ...portico], {
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      })
    : spawn(
        'valgrind',
        [
          '--tool=callgrind',
          `--callgrind-out-file=${join(out, 'callgrind.out.%p')}`,
          '--dump-instr=no',
          '--collect-jumps=no',
          '--smc-check=all-non-file',
          process.execPath,
          ...portico,
        ],
        { env, stdio: ['ignore', 'inherit', 'inherit'] },
      )
const headers = Object.fromEntries(
  o.header.map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()]),
)
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNS, pipelining: 1 })
const one = async () => {
  const r = await pool.request({ path: o.path, method: 'GET', headers })
  await r.body.dump()
  return r.statusCode
}
for (let i = 0; ; i++) {
  if (child.exitCode !== null) throw new Error('portico exited')
  try {
    if ((await one()) === 200) break
  } catch {}
  if (i > 600) throw new Error('portico did not answer 200')
  await new Promise((r) => setTimeout(r, 500))
}
const run = async (count: number) => {
  let left = count
  let bad = 0
  await Promise.all(
    Array.from({ length: CONNS }, async () => {
      while (left > 0) {
        left--
        if ((await one()) !== 200) bad++
      }
    }),
  )
  if (bad > 0) console.error(`${bad} answers were not 200`)
}
const control = (arg: string) =>
  new Promise<void>((res, rej) => {
    const c = spawn('callgrind_control', [arg, String(child.pid)], { stdio: 'ignore' })
    c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`callgrind_control ${arg}: ${code}`))))
  })
await run(WARMUP)
if (RUN) {
  await run(N)
  await pool.close()
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
  upstream.close()
} else if (PROFILE) {
  // the profile covers the warm-up too: the request path dominates it either way
  await run(N)
  await pool.close()
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
  upstream.close()
  const f = readdirSync(out).find((n) => n.endsWith('.cpuprofile'))!
  printShares(JSON.parse(readFileSync(join(out, f), 'utf8')) as Profile, Number(o.top))
  console.log(`profile: ${join(out, f)}`)
} else {
  await control('-z')
  await run(N)
  await control('-d')
  await new Promise((r) => setTimeout(r, 1000))
  const ir = total()
  console.log(
    JSON.stringify({
      path: o.path,
      env: o.env,
      repo: o.repo,
      n: N,
      instructions: ir,
      perRequest: Math.round(ir / N),
      out,
    }),
  )
  await pool.close()
  child.kill('SIGKILL')
  upstream.close()
}

function total(): number {
  let ir = 0
  for (const f of readdirSync(out).filter((f) => f.startsWith(`callgrind.out.${child.pid}.`))) {
    const m = /^summary:\s+(\d+)/m.exec(readFileSync(join(out, f), 'utf8'))
    if (m !== null) ir = Math.max(ir, Number(m[1]))
  }
  return ir
}

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
  samples: number[]
}

/** Self time by function and by file (share of all samples, idle excluded). */
function printShares(p: Profile, top: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]))
  const fn = new Map<string, number>()
  const file = new Map<string, number>()
  let all = 0
  for (const id of p.samples) {
    const c = byId.get(id)!
    if (c.functionName === '(idle)') continue
    all++
    const where = c.url === '' ? c.functionName : c.url.replace(/^.*\/(dist|node_modules)\//, '$1/')
    const k = `${c.functionName || '(anonymous)'} ${where}:${c.lineNumber + 1}`
    fn.set(k, (fn.get(k) ?? 0) + 1)
    file.set(where, (file.get(where) ?? 0) + 1)
  }
  const show = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((100 * v) / all).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n')
  console.log(
    `${all} samples (idle excluded)\n\nself time by function\n${show(fn)}\n\nself time by file\n${show(file)}`,
  )
}

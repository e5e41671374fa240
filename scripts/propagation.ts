/**
 * Config propagation across nodes: three `portico start` processes on one Redis (a private
 * redis-server on a free port), continuous load on all three, and N changes made through the
 * Admin API of each node in turn. Every change alternates between moving the loaded service to
 * the other upstream and adding a route; the time it takes is measured from just before the
 * admin request until every node serves the change. Prints p50/p90/p99/max, where the time went
 * (the writer's answer; the last node's swap, from the nodes' own logs) and the requests that
 * failed under load (goals: p99 ≤ 100 ms, 0 failed).
 *
 * The load is open-loop (a fixed rate per node, bounded in-flight) and runs with the upstreams
 * in a worker thread; the main thread only makes the admin calls and polls the nodes (every
 * millisecond) to see each change served. The load runs 2 s first and 10 warm-up changes are
 * made before the N that are measured (fresh processes run cold code).
 *
 *   node dist/scripts/propagation.js [changes=100] [ratePerNode=100]
 *   node dist/scripts/propagation.js outage [ratePerNode=100]
 *
 * `outage`: the same three nodes under load; Redis is killed (SIGKILL, nothing saved) and
 * restarted empty on the same port. Prints what the nodes did meanwhile: requests served and
 * failed, `/healthz` store status, an admin write refused, then the next change reaching all.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { Pool } from 'undici'
import { type PrivateRedis, privateRedis } from '../test/fixtures/control-plane-redis-server.js'
import type { LoadReport } from './propagation-load.js'

const BIN = fileURLToPath(new URL('../../bin/portico.js', import.meta.url))
const LOAD = fileURLToPath(new URL('./propagation-load.js', import.meta.url))

interface NodeProcess {
  child: ChildProcess
  proxy: string
  admin: string
  /** wall-clock times (ms, from the node's own log) at which it applied a configuration */
  applied: number[]
}

type Summary = { p50: number; p90: number; p99: number; max: number }

export interface PropagationReport {
  changes: number
  /** admin write → every node serves it (what the goal is about) */
  ms: Summary
  /** admin write → the writing node answered (commit in Redis + its own swap) */
  answered: Summary
  /** admin write → the last node swapped the change in, by the nodes' logs (ms resolution) */
  applied: Summary
  load: LoadReport
  ratePerNode: number
}

async function startNode(redisUrl: string): Promise<NodeProcess> {
  // one process per node: the figures are Redis propagation between nodes, not between workers
  const args = ['start', '--workers', '1', '--config-store', 'redis', '--redis-url', redisUrl]
  args.push('--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--status-listen', 'off')
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORTICO_LOG_LEVEL: 'info' },
  })
  const applied: number[] = []
  let partial = ''
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.includes('"configuration applied"')) continue
      const time = /"time":(\d+)/.exec(line)
      if (time) applied.push(Number(time[1]))
    }
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      const proxy = /"proxy":\{"host":"[^"]+","port":(\d+)\}/.exec(out)
      const admin = /"admin":\{"host":"[^"]+","port":(\d+)\}/.exec(out)
      if (proxy && admin) {
        child.stdout?.off('data', onData)
        resolve({
          child,
          proxy: `http://127.0.0.1:${proxy[1]}`,
          admin: `http://127.0.0.1:${admin[1]}`,
          applied,
        })
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`node exited ${code}: ${out}`)))
  })
}

async function adminCall(
  pool: Pool,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    method: method as 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.statusCode, text: await res.body.text() }
}

/** changes made before the measured ones, not counted */
const WARMUP = 10

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls one node (a request, then a 1 ms pause) until `seen` holds; resolves with the time it did. */
async function until(
  pool: Pool,
  path: string,
  seen: (status: number, upstream: string, body: string) => boolean,
): Promise<number> {
  for (;;) {
    const res = await pool.request({ method: 'GET', path })
    const body = await res.body.text()
    if (seen(res.statusCode, String(res.headers['x-upstream'] ?? ''), body)) return performance.now()
    await sleep(1)
  }
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0

function summary(times: number[]): Summary {
  const sorted = [...times].sort((x, y) => x - y)
  const r = (n: number) => Math.round(n * 10) / 10
  return {
    p50: r(pct(sorted, 50)),
    p90: r(pct(sorted, 90)),
    p99: r(pct(sorted, 99)),
    max: r(sorted.at(-1) ?? 0),
  }
}

/** The upstreams and the load, in a worker thread. */
class LoadWorker {
  readonly #worker = new Worker(LOAD)
  a = ''
  b = ''

  async ready(): Promise<this> {
    const msg = await this.#next('ready')
    this.a = msg.a as string
    this.b = msg.b as string
    return this
  }

  start(targets: string[], path: string, ratePerNode: number): void {
    this.#worker.postMessage({ type: 'load', targets, path, ratePerNode })
  }

  async stop(): Promise<LoadReport> {
    this.#worker.postMessage({ type: 'stop' })
    return (await this.#next('report')) as unknown as LoadReport
  }

  async close(): Promise<void> {
    this.#worker.postMessage({ type: 'close' })
    await this.#next('closed')
    await this.#worker.terminate()
  }

  #next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: Record<string, unknown>) => {
        if (msg.type !== type) return
        this.#worker.off('message', onMessage)
        this.#worker.off('error', reject)
        resolve(msg)
      }
      this.#worker.on('message', onMessage)
      this.#worker.once('error', reject)
    })
  }
}

/** Three nodes on a private Redis with the `stable` service and route served by all. */
async function cluster<T>(
  run: (c: {
    redis: PrivateRedis
    load: LoadWorker
    nodes: NodeProcess[]
    admins: Pool[]
    probes: Pool[]
  }) => Promise<T>,
): Promise<T> {
  let redis: PrivateRedis | undefined
  let load: LoadWorker | undefined
  const nodes: NodeProcess[] = []
  const pools: Pool[] = []
  try {
    redis = await privateRedis()
    load = await new LoadWorker().ready()
    for (let i = 0; i < 3; i++) nodes.push(await startNode(redis.url))
    const admins = nodes.map((n) => new Pool(n.admin, { connections: 1 }))
    const probes = nodes.map((n) => new Pool(n.proxy, { connections: 1 }))
    pools.push(...admins, ...probes)
    await adminCall(admins[0] as Pool, 'PUT', '/services/stable', { url: load.a })
    await adminCall(admins[0] as Pool, 'PUT', '/routes/stable', {
      paths: ['/stable'],
      service: { name: 'stable' },
    })
    for (const p of probes) await until(p, '/stable', (s) => s === 200)
    return await run({ redis, load, nodes, admins, probes })
  } finally {
    await Promise.all(pools.map((p) => p.close()))
    for (const n of nodes) n.child.kill('SIGTERM')
    await Promise.all(
      nodes.map((n) => new Promise((r) => (n.child.exitCode !== null ? r(0) : n.child.once('exit', r)))),
    )
    await load?.close()
    await redis?.close()
  }
}

export function propagation(changes: number, ratePerNode: number): Promise<PropagationReport> {
  return cluster(async ({ load, nodes, admins, probes }) => {
    load.start(
      nodes.map((n) => n.proxy),
      '/stable',
      ratePerNode,
    )
    // fresh processes run cold code: the load runs 2 s, and the first WARMUP changes (made and
    // checked the same way) are not counted
    await sleep(2000)

    const times: number[] = []
    const answered: number[] = []
    const applied: number[] = []
    let current = 'a'
    for (let i = 0; i < WARMUP + changes; i++) {
      const counted = i >= WARMUP
      const via = admins[i % 3] as Pool
      const before = nodes.map((n) => n.applied.length)
      const wall0 = Date.now()
      const t0 = performance.now()
      let seen: Array<Promise<number>>
      if (i % 2 === 0) {
        current = current === 'a' ? 'b' : 'a'
        const res = await adminCall(via, 'PATCH', '/services/stable', {
          url: current === 'a' ? load.a : load.b,
        })
        const answer = performance.now() - t0
        if (counted) answered.push(answer)
        if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${res.text}`)
        const want = current
        seen = probes.map((p) => until(p, '/stable', (s, u) => s === 200 && u === want))
      } else {
        const res = await adminCall(via, 'POST', '/services/stable/routes', {
          name: `probe-${i}`,
          paths: [`/probe-${i}`],
        })
        const answer = performance.now() - t0
        if (counted) answered.push(answer)
        if (res.status !== 201) throw new Error(`POST route answered ${res.status}: ${res.text}`)
        seen = probes.map((p) => until(p, `/probe-${i}`, (s) => s === 200))
      }
      const done = await Promise.all(seen)
      if (counted) times.push(Math.max(...done) - t0)
      // when each node swapped the change in, by its own log (the line may still be in the pipe)
      for (let w = 0; w < 100 && nodes.some((n, k) => n.applied.length <= (before[k] as number)); w++)
        await sleep(10)
      const swapped = nodes.map((n, k) => (n.applied[before[k] as number] ?? Number.NaN) - wall0)
      if (counted) applied.push(Math.max(...swapped))
    }
    const report = await load.stop()
    return {
      changes,
      ms: summary(times),
      answered: summary(answered),
      applied: summary(applied.filter((x) => !Number.isNaN(x))),
      load: report,
      ratePerNode,
    }
  })
}

interface Health {
  status: number
  store: string
}

async function health(p: Pool): Promise<Health> {
  const res = await p.request({ method: 'GET', path: '/healthz' })
  const body = JSON.parse(await res.body.text()) as { store?: { config_store_status?: string } }
  return { status: res.statusCode, store: body.store?.config_store_status ?? '?' }
}

/** Waits until every node's `/healthz` reports the config store as `want`: the ms it took, or null. */
async function storeBecomes(probes: Pool[], want: string, limitMs: number): Promise<number | null> {
  const t0 = performance.now()
  while (performance.now() - t0 < limitMs) {
    const all = await Promise.all(probes.map(health))
    if (all.every((h) => h.store === want)) return performance.now() - t0
    await sleep(5)
  }
  return null
}

/** Redis killed and restarted under load; returns the lines to print and whether every check held. */
export function outage(ratePerNode: number): Promise<{ lines: string[]; ok: boolean }> {
  return cluster(async ({ redis, load, nodes, admins, probes }) => {
    const lines: string[] = []
    let ok = true
    const expect = (holds: boolean, line: string) => {
      ok &&= holds
      lines.push(`  ${holds ? 'ok  ' : 'FAIL'} ${line}`)
    }
    const targets = nodes.map((n) => n.proxy)
    const phase = async (ms: number) => {
      load.start(targets, '/stable', ratePerNode)
      await sleep(ms)
      return load.stop()
    }
    const served = async () =>
      (await Promise.all(probes.map((p) => p.request({ method: 'GET', path: '/stable' })))).map((r) => {
        r.body.resume()
        return r.statusCode
      })
    const r = (n: number) => Math.round(n)

    const notSent = (l: LoadReport) => (l.skipped > 0 ? ` (${l.skipped} not sent: in-flight cap)` : '')
    const before = await phase(1000)
    expect(
      before.failed === 0,
      `Redis up: ${before.requests} requests, ${before.failed} failed${notSent(before)}`,
    )

    // Redis dies while the load runs
    load.start(targets, '/stable', ratePerNode)
    await sleep(200)
    await redis.stop()
    const noticed = await storeBecomes(probes, 'unreachable', 5000)
    const down = await Promise.all(probes.map(health))
    expect(
      noticed !== null && down.every((h) => h.status === 200),
      `Redis killed (SIGKILL): /healthz on all 3 says config store "unreachable" after ${noticed === null ? '—' : r(noticed)} ms, HTTP ${down.map((h) => h.status).join('/')}`,
    )
    const refused = await adminCall(admins[0] as Pool, 'POST', '/services', {
      name: 'while-down',
      host: 'h.test',
    })
    expect(
      refused.status === 503,
      `admin write while Redis is down: ${refused.status} ${refused.text.slice(0, 110)}`,
    )
    await sleep(2000)
    const stillServed = await served()
    const during = await load.stop()
    expect(
      during.failed === 0 && stillServed.every((s) => s === 200),
      `Redis down (${during.seconds} s incl. 0.2 s before the kill): ${during.requests} requests, ${during.failed} failed${notSent(during)}; /stable ${stillServed.join('/')}`,
    )

    // Redis back, empty (nothing was saved): the nodes reconnect and re-seed it
    load.start(targets, '/stable', ratePerNode)
    await redis.start()
    const back = await storeBecomes(probes, 'ok', 10000)
    expect(
      back !== null,
      `Redis restarted empty on the same port: /healthz on all 3 says "ok" after ${back === null ? '—' : r(back)} ms`,
    )
    const t0 = performance.now()
    const change = await adminCall(admins[2] as Pool, 'POST', '/services/stable/routes', {
      name: 'after',
      paths: ['/after'],
    })
    const live = await Promise.race([
      Promise.all(probes.map((p) => until(p, '/after', (s) => s === 200))).then((t) => Math.max(...t) - t0),
      sleep(10000).then(() => null),
    ])
    expect(
      change.status === 201 && live !== null,
      `next change (POST a route via node 3): ${change.status}, served by all 3 after ${live === null ? '—' : live.toFixed(1)} ms`,
    )
    const after = await load.stop()
    const stable = await served()
    const hashes = await Promise.all(
      admins.map(async (a) => {
        const res = await a.request({ method: 'GET', path: '/status' })
        return (JSON.parse(await res.body.text()) as { configuration_hash: string }).configuration_hash
      }),
    )
    expect(
      after.failed === 0 && stable.every((s) => s === 200) && new Set(hashes).size === 1,
      `Redis back: ${after.requests} requests, ${after.failed} failed${notSent(after)}; /stable ${stable.join('/')}; one configuration_hash on all 3: ${new Set(hashes).size === 1}`,
    )
    return { lines, ok }
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'outage') {
    const rate = Number(process.argv[3] ?? 100)
    const { lines, ok } = await outage(rate)
    process.stdout.write(
      `Redis outage: 3 nodes on one Redis (config store), load ${rate} req/s per node throughout\n` +
        `${lines.join('\n')}\n  outcome: ${ok ? 'every check held' : 'FAILED'}\n`,
    )
    process.exitCode = ok ? 0 : 1
  } else {
    const changes = Number(process.argv[2] ?? 100)
    const rate = Number(process.argv[3] ?? 100)
    const report = await propagation(changes, rate)
    const { ms, answered, applied, load } = report
    process.stdout.write(
      `config propagation: ${report.changes} changes through 3 nodes on one Redis (admin write → served by all 3; after 2 s of load and ${WARMUP} warm-up changes)\n` +
        `  p50 ${ms.p50} ms, p90 ${ms.p90} ms, p99 ${ms.p99} ms, max ${ms.max} ms (goal p99 ≤ 100 ms)\n` +
        `  of which: writer answered p50 ${answered.p50} ms, p99 ${answered.p99} ms; last node swapped it in p50 ${applied.p50} ms, p99 ${applied.p99} ms (node logs)\n` +
        `  load meanwhile: ${load.requests} requests to /stable (${report.ratePerNode} req/s per node, open loop, ${load.seconds} s), ${load.failed} failed (goal 0); latency p50 ${load.ms.p50} ms, p99 ${load.ms.p99} ms${load.skipped > 0 ? `; ${load.skipped} not sent (in-flight cap)` : ''}\n` +
        (load.failures.length > 0 ? `  failures: ${load.failures.join('; ')}\n` : ''),
    )
    process.exitCode = load.failed === 0 && ms.p99 <= 100 ? 0 : 1
  }
}

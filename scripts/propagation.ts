/**
 * Config propagation across nodes: three `portico start` processes on one Redis (a private
 * redis-server on a free port), continuous load on all three, and N changes made through the
 * Admin API of each node in turn. Every change alternates between moving the loaded service to
 * the other upstream and adding a route; the time it takes is measured from just before the
 * admin request until every node serves the change. Prints p50/p90/p99/max and the requests
 * that failed under load (goals: p99 ≤ 100 ms, 0 failed).
 *
 *   node dist/scripts/propagation.js [changes=100] [concurrencyPerNode=2]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { type PrivateRedis, privateRedis } from '../test/control-plane-redis-server.js'
import { type Upstream, upstream } from '../test/helpers.js'

const BIN = fileURLToPath(new URL('../../bin/portico.js', import.meta.url))

interface NodeProcess {
  child: ChildProcess
  proxy: string
  admin: string
}

export interface PropagationReport {
  changes: number
  ms: { p50: number; p90: number; p99: number; max: number }
  requests: number
  failed: number
  failures: string[]
}

async function startNode(redisUrl: string): Promise<NodeProcess> {
  const args = ['start', '--config-store', 'redis', '--redis-url', redisUrl]
  args.push('--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--status-listen', 'off')
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORTICO_LOG_LEVEL: 'info' },
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      const proxy = /"proxy":\{"host":"[^"]+","port":(\d+)\}/.exec(out)
      const admin = /"admin":\{"host":"[^"]+","port":(\d+)\}/.exec(out)
      if (proxy && admin) {
        child.stdout?.off('data', onData)
        child.stdout?.resume() // keep draining the logs
        resolve({ child, proxy: `http://127.0.0.1:${proxy[1]}`, admin: `http://127.0.0.1:${admin[1]}` })
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`node exited ${code}: ${out}`)))
  })
}

async function adminCall(pool: Pool, method: string, path: string, body: unknown): Promise<number> {
  const res = await pool.request({
    method: method as 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  await res.body.text()
  return res.statusCode
}

/** Polls one node until `seen` holds for a response to `path`. */
async function until(
  pool: Pool,
  path: string,
  seen: (status: number, upstream: string) => boolean,
): Promise<number> {
  for (;;) {
    const res = await pool.request({ method: 'GET', path })
    await res.body.text()
    if (seen(res.statusCode, String(res.headers['x-upstream'] ?? ''))) return performance.now()
  }
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0

export async function propagation(changes: number, concurrency: number): Promise<PropagationReport> {
  let redis: PrivateRedis | undefined
  const ups: Upstream[] = []
  const nodes: NodeProcess[] = []
  try {
    redis = await privateRedis()
    ups.push(await upstream('a'), await upstream('b'))
    for (let i = 0; i < 3; i++) nodes.push(await startNode(redis.url))
    const admins = nodes.map((n) => new Pool(n.admin, { connections: 1 }))
    const probes = nodes.map((n) => new Pool(n.proxy, { connections: 1 }))
    const [a, b] = ups as [Upstream, Upstream]
    await adminCall(admins[0] as Pool, 'PUT', '/services/stable', { url: a.url })
    await adminCall(admins[0] as Pool, 'PUT', '/routes/stable', {
      paths: ['/stable'],
      service: { name: 'stable' },
    })
    for (const p of probes) await until(p, '/stable', (s) => s === 200)

    let stop = false
    let requests = 0
    const failures: string[] = []
    const loaders = nodes.map((n) => new Pool(n.proxy, { connections: concurrency }))
    const load = loaders.flatMap((pool) =>
      Array.from({ length: concurrency }, async () => {
        while (!stop) {
          requests++
          try {
            const res = await pool.request({ method: 'GET', path: '/stable' })
            await res.body.text()
            if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`)
          } catch (err) {
            failures.push((err as Error).message)
          }
        }
      }),
    )

    const times: number[] = []
    let current = 'a'
    for (let i = 0; i < changes; i++) {
      const via = admins[i % 3] as Pool
      const t0 = performance.now()
      let seen: Array<Promise<number>>
      if (i % 2 === 0) {
        current = current === 'a' ? 'b' : 'a'
        const target = current === 'a' ? a : b
        const status = await adminCall(via, 'PATCH', '/services/stable', { url: target.url })
        if (status !== 200) throw new Error(`PATCH answered ${status}`)
        const want = current
        seen = probes.map((p) => until(p, '/stable', (s, u) => s === 200 && u === want))
      } else {
        const status = await adminCall(via, 'POST', '/services/stable/routes', {
          name: `probe-${i}`,
          paths: [`/probe-${i}`],
        })
        if (status !== 201) throw new Error(`POST route answered ${status}`)
        seen = probes.map((p) => until(p, `/probe-${i}`, (s) => s === 200))
      }
      const done = await Promise.all(seen)
      times.push(Math.max(...done) - t0)
    }
    stop = true
    await Promise.all(load)
    await Promise.all([...admins, ...probes, ...loaders].map((p) => p.close()))
    const sorted = [...times].sort((x, y) => x - y)
    const r = (n: number) => Math.round(n * 10) / 10
    return {
      changes,
      ms: {
        p50: r(pct(sorted, 50)),
        p90: r(pct(sorted, 90)),
        p99: r(pct(sorted, 99)),
        max: r(sorted.at(-1) ?? 0),
      },
      requests,
      failed: failures.length,
      failures: [...new Set(failures)].slice(0, 5),
    }
  } finally {
    for (const n of nodes) n.child.kill('SIGTERM')
    await Promise.all(
      nodes.map((n) => new Promise((r) => (n.child.exitCode !== null ? r(0) : n.child.once('exit', r)))),
    )
    await Promise.all(ups.map((u) => u.close()))
    await redis?.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const changes = Number(process.argv[2] ?? 100)
  const concurrency = Number(process.argv[3] ?? 2)
  const report = await propagation(changes, concurrency)
  process.stdout.write(
    `config propagation: ${report.changes} changes through 3 nodes on one Redis (admin write → served by all 3)\n` +
      `  p50 ${report.ms.p50} ms, p90 ${report.ms.p90} ms, p99 ${report.ms.p99} ms, max ${report.ms.max} ms (goal p99 ≤ 100 ms)\n` +
      `  load meanwhile: ${report.requests} requests to /stable on the 3 nodes, ${report.failed} failed (goal 0)\n` +
      (report.failures.length > 0 ? `  failures: ${report.failures.join('; ')}\n` : ''),
  )
  process.exitCode = report.failed === 0 && report.ms.p99 <= 100 ? 0 : 1
}

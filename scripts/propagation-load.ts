/**
 * The worker thread of `propagation.ts`: the two upstreams and the continuous load, on their
 * own event loop, so that serving and sending thousands of requests does not delay the main
 * thread's admin calls and probes (which is what is timed).
 *
 * Messages in: `{ type: 'load', targets, path, ratePerNode }`, `{ type: 'stop' }`, `{ type: 'close' }`.
 * Messages out: `{ type: 'ready', a, b }`, `{ type: 'report', … }` (after stop), `{ type: 'closed' }`.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parentPort } from 'node:worker_threads'
import { Pool } from 'undici'

export interface LoadReport {
  type: 'report'
  /** requests sent */
  requests: number
  failed: number
  failures: string[]
  /** arrivals not sent because a node already had `maxInflight` requests open */
  skipped: number
  ms: { p50: number; p99: number; max: number }
  seconds: number
}

/** An upstream that answers 200 with its name in `x-upstream`, recording nothing. */
function named(name: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name })
      res.end(`{"name":"${name}"}`)
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`
const port = parentPort
if (port === null) throw new Error('propagation-load.js runs as a worker thread')

const a = await named('a')
const b = await named('b')
port.postMessage({ type: 'ready', a: url(a), b: url(b) })

let stop: (() => Promise<LoadReport>) | null = null

/**
 * Open loop: `ratePerNode` requests a second to each target, sent on schedule whatever the
 * answers do (arrivals owed after a stalled tick go out at once), at most `maxInflight` open
 * per target so the load stays bounded.
 */
function startLoad(targets: string[], path: string, ratePerNode: number, maxInflight = 64) {
  const pools = targets.map((t) => new Pool(t, { connections: maxInflight, pipelining: 1 }))
  const inflight = targets.map(() => 0)
  const sent = targets.map(() => 0)
  const latencies: number[] = []
  const failures: string[] = []
  let requests = 0
  let skipped = 0
  const pending = new Set<Promise<void>>()
  const t0 = performance.now()

  const one = (i: number) => {
    const pool = pools[i] as Pool
    inflight[i]!++
    requests++
    const start = performance.now()
    const p = pool
      .request({ method: 'GET', path })
      .then(async (res) => {
        await res.body.text()
        if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`)
        else latencies.push(performance.now() - start)
      })
      .catch((err: unknown) => {
        failures.push((err as Error).message)
      })
      .finally(() => {
        inflight[i]!--
        pending.delete(p)
      })
    pending.add(p)
  }

  const tick = () => {
    const due = Math.floor(((performance.now() - t0) / 1000) * ratePerNode)
    for (let i = 0; i < targets.length; i++) {
      while ((sent[i] as number) < due) {
        sent[i]!++
        if ((inflight[i] as number) >= maxInflight) skipped++
        else one(i)
      }
    }
  }
  const timer = setInterval(tick, 5)

  return async (): Promise<LoadReport> => {
    clearInterval(timer)
    const seconds = (performance.now() - t0) / 1000
    await Promise.all(pending)
    await Promise.all(pools.map((p) => p.close()))
    latencies.sort((x, y) => x - y)
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0
    const r = (n: number) => Math.round(n * 10) / 10
    return {
      type: 'report',
      requests,
      failed: failures.length,
      failures: [...new Set(failures)].slice(0, 5),
      skipped,
      ms: { p50: r(at(0.5)), p99: r(at(0.99)), max: r(latencies.at(-1) ?? 0) },
      seconds: r(seconds),
    }
  }
}

port.on('message', (msg: { type: string; targets?: string[]; path?: string; ratePerNode?: number }) => {
  if (msg.type === 'load') {
    stop = startLoad(msg.targets ?? [], msg.path ?? '/', msg.ratePerNode ?? 100)
  } else if (msg.type === 'stop' && stop !== null) {
    const done = stop
    stop = null
    void done().then((report) => port.postMessage(report))
  } else if (msg.type === 'close') {
    a.closeAllConnections()
    b.closeAllConnections()
    Promise.all([a, b].map((s) => new Promise((r) => s.close(r)))).then(() => {
      port.postMessage({ type: 'closed' })
      port.close()
    })
  }
})

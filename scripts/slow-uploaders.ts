/**
 * Slow uploaders against one upstream, with the route's `request_buffering` on (Kong's default)
 * and off: `uploaders` clients each send a request head with `Content-Length: 100`, then one
 * body byte every 2 s, and are cut after `seconds` (their bodies never complete: each holds
 * whatever it can for the whole window). Meanwhile one normal client sends GETs to the same
 * upstream back to back, each given up after 2 s. Printed per mode: the normal client's status
 * counts and latency percentiles (a request given up counts as 2000 ms), and how many upload
 * heads reached the upstream. The node runs with its defaults (128 connections per upstream,
 * 1024 waiting).
 *
 * Then the cost of buffering: `cost` sequential POSTs of 1 KiB and of 1 MB each through a route
 * buffered in memory, buffered to a temporary file (the memory bound lowered to 512 bytes) and
 * streamed (`request_buffering: false`): wall time per request (p50, p99) and the process's CPU
 * per request (gateway, upstream and client share this process, so the differences between
 * the modes are what buffering costs).
 *
 *   node dist/scripts/slow-uploaders.js [uploaders=200] [seconds=15] [cost=200]
 */
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { DEFAULT_SETTINGS } from '../src/main.js'
import { gateway } from '../test/fixtures/helpers.js'

const [uploaders = 200, seconds = 15, costRuns = 200] = process.argv.slice(2).map(Number)
const GIVE_UP_MS = 2000

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const round = (n: number) => Math.round(n * 100) / 100

async function upstream(): Promise<{ url: string; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = []
  const server = http.createServer((req, res) => {
    heads.push(`${req.method} ${req.url}`)
    let n = 0
    req.on('data', (c: Buffer) => {
      n += c.length
    })
    req.on('end', () => res.end(`got ${n}`))
  })
  server.maxConnections = 10_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

const config = (url: string, buffering: boolean) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: up, paths: [/up], request_buffering: ${buffering} }
`

/** One uploader: the head, then a byte every 2 s, until it is cut. */
function slowUploader(port: number, until: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('POST /up/slow HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n')
      const t = setInterval(() => {
        if (Date.now() >= until) {
          clearInterval(t)
          s.destroy()
          return resolve()
        }
        s.write('x')
      }, 2000)
      s.on('close', () => {
        clearInterval(t)
        resolve()
      })
    })
    s.on('error', () => resolve())
  })
}

async function slowRound(buffering: boolean): Promise<void> {
  const up = await upstream()
  const gw = await gateway(config(up.url, buffering))
  const until = Date.now() + seconds * 1000
  const uploads = Array.from({ length: uploaders }, () => slowUploader(gw.proxy.port, until))
  // the uploaders are connected and have sent their heads
  await new Promise((r) => setTimeout(r, 1000))
  const pool = new Pool(gw.url, { connections: 1 })
  const statuses: Record<string, number> = {}
  const ms: number[] = []
  while (Date.now() < until) {
    const t0 = performance.now()
    let status: string
    try {
      const r = await pool.request({
        method: 'GET',
        path: '/up/normal',
        signal: AbortSignal.timeout(GIVE_UP_MS),
      })
      await r.body.dump()
      status = String(r.statusCode)
    } catch (err) {
      status = (err as Error).name === 'TimeoutError' ? 'gave up (2 s)' : `error ${(err as Error).name}`
    }
    ms.push(Math.min(performance.now() - t0, GIVE_UP_MS))
    statuses[status] = (statuses[status] ?? 0) + 1
  }
  const headsUpstream = up.heads.filter((h) => h === 'POST /slow').length
  await Promise.all(uploads)
  await pool.destroy()
  await gw.stop()
  await up.close()
  ms.sort((a, b) => a - b)
  console.log(
    JSON.stringify({
      request_buffering: buffering,
      uploaders,
      seconds,
      normal_client: {
        requests: ms.length,
        statuses,
        p50_ms: round(pct(ms, 50)),
        p99_ms: round(pct(ms, 99)),
        max_ms: round(ms.at(-1) ?? Number.NaN),
      },
      upload_heads_that_reached_the_upstream: headsUpstream,
    }),
  )
}

async function costRound(
  label: string,
  buffering: boolean,
  bodyBufferSize: number,
  size: number,
): Promise<void> {
  const up = await upstream()
  const gw = await gateway(config(up.url, buffering), {
    limits: { ...DEFAULT_SETTINGS.limits, bodyBufferSize },
  })
  const pool = new Pool(gw.url, { connections: 1 })
  const body = Buffer.alloc(size, 'u')
  const once = async (): Promise<void> => {
    const r = await pool.request({ method: 'POST', path: '/up/cost', body })
    const text = await r.body.text()
    if (r.statusCode !== 200 || text !== `got ${size}`) throw new Error(`${r.statusCode} ${text}`)
  }
  for (let i = 0; i < 20; i++) await once()
  const ms: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < costRuns; i++) {
    const t = performance.now()
    await once()
    ms.push(performance.now() - t)
  }
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  await pool.destroy()
  await gw.stop()
  await up.close()
  ms.sort((a, b) => a - b)
  console.log(
    JSON.stringify({
      body: size,
      mode: label,
      requests: costRuns,
      p50_ms: round(pct(ms, 50)),
      p99_ms: round(pct(ms, 99)),
      mean_ms: round(wall / costRuns),
      cpu_us_per_request: Math.round((cpu.user + cpu.system) / costRuns),
    }),
  )
}

await slowRound(true)
await slowRound(false)
if (costRuns > 0) {
  for (const size of [1024, 1_000_000]) {
    await costRound('buffered in memory (1 MiB bound)', true, 1024 * 1024, size)
    await costRound('buffered to a temporary file (512 B bound)', true, 512, size)
    await costRound('streamed (request_buffering: false)', false, 1024 * 1024, size)
  }
}

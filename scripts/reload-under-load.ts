/**
 * Reload under load: a gateway on loopback, a client sending requests continuously, and the
 * declarative file rewritten and reloaded N times meanwhile (each version moves a second route
 * and changes the upstream's weight, so every reload really builds a new runtime). Prints the
 * requests sent and how many failed; the goal is 0.
 *
 *   node dist/scripts/reload-under-load.js [reloads=20] [intervalMs=100] [concurrency=32]
 */
import { writeFileSync } from 'node:fs'
import { Pool } from 'undici'
import { gateway, upstream } from '../test/fixtures/helpers.js'

export interface ReloadReport {
  reloads: number
  requests: number
  failed: number
  failures: string[]
  reloadMs: { p50: number; max: number }
}

const config = (a: string, b: string, i: number) => `
_format_version: "3.0"
services:
  - name: main
    host: main.up
    routes:
      - { name: main, paths: [/main] }
      - { name: moving, paths: ["/v${i}"] }
upstreams:
  - name: main.up
    targets:
      - { target: "${a}", weight: ${100 + i} }
      - { target: "${b}", weight: 100 }
`

export async function reloadUnderLoad(opts: { reloads: number; intervalMs: number; concurrency: number }) {
  const a = await upstream('a')
  const b = await upstream('b')
  const gw = await gateway(config(`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, 0))
  const pool = new Pool(gw.url, { connections: opts.concurrency })
  let stop = false
  let requests = 0
  const failures: string[] = []
  const worker = async () => {
    while (!stop) {
      requests++
      try {
        const r = await pool.request({ path: '/main', method: 'GET' })
        await r.body.text()
        if (r.statusCode !== 200) failures.push(`status ${r.statusCode}`)
      } catch (err) {
        failures.push((err as Error).message)
      }
    }
  }
  const workers = Array.from({ length: opts.concurrency }, worker)
  const times: number[] = []
  let reloads = 0
  for (let i = 1; i <= opts.reloads; i++) {
    await new Promise((r) => setTimeout(r, opts.intervalMs))
    writeFileSync(gw.file!, config(`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, i))
    const t = performance.now()
    const r = await gw.reload()
    times.push(performance.now() - t)
    if (!r.ok) failures.push(`reload ${i} refused: ${JSON.stringify(r.issues)}`)
    else reloads++
  }
  await new Promise((r) => setTimeout(r, opts.intervalMs))
  stop = true
  await Promise.all(workers)
  await pool.close()
  await gw.stop()
  await Promise.all([a.close(), b.close()])
  times.sort((x, y) => x - y)
  const report: ReloadReport = {
    reloads,
    requests,
    failed: failures.length,
    failures,
    reloadMs: { p50: times[Math.floor(times.length / 2)] ?? 0, max: times.at(-1) ?? 0 },
  }
  return report
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [reloads = '20', intervalMs = '100', concurrency = '32'] = process.argv.slice(2)
  const r = await reloadUnderLoad({
    reloads: Number(reloads),
    intervalMs: Number(intervalMs),
    concurrency: Number(concurrency),
  })
  console.log(
    `reloads: ${r.reloads}  requests: ${r.requests}  failed: ${r.failed}  ` +
      `reload time p50 ${r.reloadMs.p50.toFixed(2)} ms, max ${r.reloadMs.max.toFixed(2)} ms`,
  )
  if (r.failed > 0) console.log(r.failures.slice(0, 10).join('\n'))
  process.exitCode = r.failed === 0 ? 0 : 1
}

/**
 * One configuration per node under load: `portico start --workers 4` (memory store), clients
 * sending continuously on keep-alive connections spread over the workers, and 20 Admin API
 * writes meanwhile, each changing the header a route's response carries (`x-version: k`).
 * Prints how many requests sent after write k had returned were answered with a version older
 * than k (the goal is 0), and the requests and failures in total.
 *
 *   node dist/scripts/workers-config.js [workers=4] [writes=20] [connections=16]
 */
import { Pool } from 'undici'
import { upstream } from '../test/fixtures/helpers.js'
import { admin, startWorkers } from '../test/fixtures/workers.js'

const [workers = 4, writes = 20, connections = 16] = process.argv.slice(2).map(Number)

const up = await upstream('up')
const node = await startWorkers(
  workers,
  `_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: probe
        paths: [/probe]
        plugins:
          - { name: response-transformer, config: { add: { headers: ["x-version:0"] } } }
`,
)
const plugins = JSON.parse((await admin(node, 'GET', '/plugins')).body) as { data: Array<{ id: string }> }
const pluginId = plugins.data[0]!.id
const pool = new Pool(`http://127.0.0.1:${node.proxy}`, { connections, pipelining: 1 })

/** every answer: when its request was sent, and the version it carried */
const answers: Array<{ sent: number; version: number }> = []
let failed = 0
let stop = false
const lane = async () => {
  while (!stop) {
    const sent = performance.now()
    try {
      const res = await pool.request({ path: '/probe', method: 'GET' })
      await res.body.dump()
      answers.push({ sent, version: Number(res.headers['x-version']) })
    } catch {
      failed++
    }
  }
}
const lanes = Array.from({ length: connections }, lane)

const returned: number[] = [0]
for (let k = 1; k <= writes; k++) {
  await new Promise((r) => setTimeout(r, 100))
  const res = await admin(node, 'PATCH', `/plugins/${pluginId}`, {
    config: { add: { headers: [`x-version:${k}`] } },
  })
  if (res.status !== 200) throw new Error(`write ${k}: ${res.status} ${res.body}`)
  returned[k] = performance.now()
}
await new Promise((r) => setTimeout(r, 200))
stop = true
await Promise.all(lanes)

// a request sent after write k returned must carry version k or newer
let stale = 0
for (const a of answers) {
  let expected = 0
  for (let k = writes; k >= 1; k--) {
    if (a.sent > returned[k]!) {
      expected = k
      break
    }
  }
  if (a.version < expected) stale++
}
const healthz = await node.healthz()
console.log(
  JSON.stringify(
    {
      workers,
      writes,
      requests: answers.length,
      failed,
      answered_by_an_older_config_after_the_write_returned: stale,
      workers_after: healthz.workers.map((w) => ({
        slot: w.slot,
        generation: w.generation,
        hash: w.hash.slice(0, 12),
      })),
    },
    null,
    2,
  ),
)
await pool.close()
await node.stop()
await up.close()

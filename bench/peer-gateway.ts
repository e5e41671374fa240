/**
 * The gateway as `../shared/bench/peers.mjs` runs it (GATEWAY_CMD): one process on
 * 127.0.0.1:$PORT whose routes all lead to $UPSTREAM/json, one route per benchmark row:
 *
 *   /json            plain route (no plugins; node metrics totals only, as any node with a status listener)
 *   /observed/json   prometheus plugin with every labelled series (status codes per consumer,
 *                    latencies, bandwidth) and an access log line per request to a file
 *
 * Usage: GATEWAY_CMD='node dist/bench/peer-gateway.js' \
 *   GATEWAY_ROWS='plain=/json;observed=/observed/json' node ../shared/bench/peers.mjs
 * PORTICO_METRICS=off in the environment turns the node's metrics off (no observer at all on /json).
 * The access log goes to $PEER_ACCESS_LOG (default a file in the temp directory).
 *   /cid/json        correlation-id (Kong defaults: uuid#counter, sent upstream, no echo)
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, startNode } from '../src/main.js'
import { AccessLog } from '../src/observability/access-log.js'
import { measure } from '../src/observability/facts.js'
import { createLogger } from '../src/observability/logger.js'

const port = Number(process.env.PORT ?? 8080)
const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9001'

const config = `
_format_version: "3.0"
services:
  - name: backend
    url: ${upstream}
    routes:
      - { name: plain, paths: [/json], strip_path: false }
      - { name: cid, paths: [/cid] }
  - name: observed
    url: ${upstream}/json
    routes:
      - { name: observed, paths: [/observed/json] }
    plugins:
      - name: prometheus
        config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, per_consumer: true }
plugins:
  - { name: correlation-id, route: cid }
`

const file = join(tmpdir(), `portico-peer-${process.pid}.yaml`)
writeFileSync(file, config)
const log = createLogger({ level: 'warn' })
const node = await startNode(
  {
    ...DEFAULT_SETTINGS,
    proxy: { host: '127.0.0.1', port },
    // a status listener, as a default node has: it is what serves (and so turns on) /metrics
    status: { host: '127.0.0.1', port: 0 },
    declarativeConfig: file,
    drainTimeoutMs: 1000,
    metrics: !/^(0|false|no|off)$/i.test(process.env.PORTICO_METRICS ?? ''),
  },
  log,
)
// The access log is node-wide in Portico; here it is limited to the observed row, so the plain
// row of the same process measures a node without one.
const accessFile = process.env.PEER_ACCESS_LOG ?? join(tmpdir(), `portico-peer-access-${process.pid}.log`)
const access = new AccessLog(accessFile, log)
node.gateway.observers.push((ctx) => {
  if (ctx.route?.name === 'observed') access.write(ctx, measure(ctx, performance.now()))
})
console.log(
  `portico on :${node.proxy.port} -> ${upstream} (metrics on :${node.status?.port}, access log ${accessFile})`,
)
const stop = () => void Promise.all([node.stop(), access.close()]).then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

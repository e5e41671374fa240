/**
 * The gateway as `../shared/bench/peers.mjs` runs it (GATEWAY_CMD): one process on
 * 127.0.0.1:$PORT whose routes all lead to $UPSTREAM/json, one route per benchmark row:
 *
 *   /json          plain route (no plugins)
 *   /cached/json   proxy-cache, memory strategy, one-hour TTL: every request after the first is a hit
 *
 * Usage: GATEWAY_CMD='node dist/bench/peer-gateway.js' GATEWAY_ROWS='plain=/json;cached=/cached/json' node ../shared/bench/peers.mjs
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, startNode } from '../src/main.js'
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
      - name: cached
        paths: [/cached]
        plugins:
          - { name: proxy-cache, config: { strategy: memory, cache_ttl: 3600 } }
`

const file = join(tmpdir(), `portico-peer-${process.pid}.yaml`)
writeFileSync(file, config)
const log = createLogger({ level: 'warn' })
const node = await startNode(
  {
    ...DEFAULT_SETTINGS,
    proxy: { host: '127.0.0.1', port },
    status: null,
    declarativeConfig: file,
    drainTimeoutMs: 1000,
  },
  log,
)
console.log(`portico on :${node.proxy.port} -> ${upstream}`)
const stop = () => void node.stop().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

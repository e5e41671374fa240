/**
 * The benchmark's Node floor (`../shared/bench/proxies/node-floor.cjs`: node:http and one
 * undici Pool, no routing) as N node:cluster workers, for the scaling rows next to Portico's
 * workers (README, "Workers"). The harness starts it with PORT, UPSTREAM and NODE_PATH set.
 *
 *   GATEWAY_CMD="node $PWD/dist/bench/node-floor-cluster.js $PWD/../shared/bench/proxies/node-floor.cjs 2" \
 *   GATEWAY_ROWS="floor-2w=/json" ONLY=node-floor,floor-2w node ../shared/bench/peers.mjs
 */
import cluster from 'node:cluster'
import { createRequire } from 'node:module'

const [file, count = '2'] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: node-floor-cluster.js /path/to/node-floor.cjs [workers]')
if (cluster.isPrimary) {
  for (let i = 0; i < Number(count); i++) cluster.fork()
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} else {
  createRequire(import.meta.url)(file)
}

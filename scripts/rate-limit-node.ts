/**
 * One gateway node in its own process, for scripts that kill a node (SIGKILL: no goodbye, its
 * leases are lost as a crashed node's are). Prints `{"url": …}` on stdout once it serves.
 *
 *   node dist/scripts/rate-limit-node.js <config file> <redis url> <key prefix> [deadline ms]
 */

import { readFileSync } from 'node:fs'
import { gateway } from '../test/fixtures/helpers.js'

const [file, redisUrl, keyPrefix, deadline = '500'] = process.argv.slice(2)
const node = await gateway(readFileSync(file!, 'utf8'), {
  redisUrl,
  keyPrefix,
  redisDeadlineMs: Number(deadline),
  // no usage analytics: their flushes are Redis script calls too, and rate-limit-lease.ts
  // counts script calls as the limiter's
  analytics: null,
})
process.stdout.write(`${JSON.stringify({ url: node.url })}\n`)
process.on('SIGTERM', () => {
  node.stop().then(() => process.exit(0))
})

import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  DEMO_SERVICE_NAMES,
  type DemoServiceName,
  startDemoService,
  startDemoServices,
} from '../../demo/services/index.js'
import { createLogger, type LogLevel } from '../observability/logger.js'
import { parseAddress, resolveSettings } from './settings.js'
import { runNode } from './start.js'

/** The demo gateway file, next to the demo sources (copied beside the build output too). */
export const DEMO_CONFIG = fileURLToPath(new URL('../../../demo/portico.demo.yaml', import.meta.url))

/**
 * The demo gateway file for a node with Redis: the same services, routes and consumers, with the
 * limits that must hold across nodes (rate-limit counters, request-queue slots) in Redis.
 */
export const DEMO_REDIS_CONFIG = fileURLToPath(
  new URL('../../../demo/portico.demo.redis.yaml', import.meta.url),
)

/**
 * The demo file for a node: the Redis one when the node has a Redis (`PORTICO_REDIS_URL`,
 * `REDIS_URL`), else the one that needs nothing but the node.
 *
 * @example
 *   demoConfigFor(undefined)                   // → DEMO_CONFIG
 *   demoConfigFor('redis://127.0.0.1:6379')    // → DEMO_REDIS_CONFIG
 */
export function demoConfigFor(redisUrl: string | undefined): string {
  return redisUrl === undefined || redisUrl === '' ? DEMO_CONFIG : DEMO_REDIS_CONFIG
}

/**
 * The curl lines of the demo's authentication: a token from the auth service through the
 * gateway, the JWT-protected route with it, the same resource with an API key, a refusal, and
 * a logout. Printed by `portico demo` and shown in the README; the demo test runs them.
 *
 * @example
 *   authCurlLines('http://127.0.0.1:8000').split('\n')[0] // → "  TOKEN=$(curl -s -X POST …"
 */
export function authCurlLines(base: string): string {
  return `  TOKEN=$(curl -s -X POST ${base}/auth/token -H 'content-type: application/json' -d '{"username":"alice","password":"alice-password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
  curl -s ${base}/api/resource -H "Authorization: Bearer $TOKEN"      # jwt: {"resource":"protected","user":"alice"}
  curl -s ${base}/api/keyed -H 'apikey: alice-key'                    # key-auth: the same resource with an API key
  curl -s -i ${base}/api/resource                                      # no token: 401 {"message":"Unauthorized"}
  curl -s -X POST ${base}/api/resource/logout -H "Authorization: Bearer $TOKEN"   # revokes the token: 401 from now on`
}

/**
 * `portico demo`: the demo services on 127.0.0.1:9101–9107 and a gateway on :8000 wired to them
 * (DESIGN §2.8); prints what to curl. Stops everything on SIGTERM/SIGINT.
 */
export async function demoCommand(_args: string[]): Promise<void> {
  const demo = await startDemoServices({ host: '127.0.0.1', basePort: 9101 })
  const settings = resolveSettings({ 'status-on-proxy': true }, process.env, process.cwd())
  settings.node.declarativeConfig = demoConfigFor(settings.node.redisUrl)
  const log = createLogger({ level: (process.env.PORTICO_LOG_LEVEL ?? 'warn') as LogLevel })
  const node = await runNode(settings, log)
  process.once('SIGTERM', () => void demo.close())
  process.once('SIGINT', () => void demo.close())
  const base = `http://127.0.0.1:${node.proxy.port}`
  const noRedis = settings.node.redisUrl === undefined || settings.node.redisUrl === ''
  process.stdout.write(`Portico demo: gateway on ${base}, status on ${node.status ? `http://127.0.0.1:${node.status.port}` : 'off'}
config: ${settings.node.declarativeConfig}${noRedis ? ' (no Redis: set PORTICO_REDIS_URL for the shared limits)' : ''}
services: ${Object.values(demo.services)
    .map((s) => `${s.name} ${s.url}`)
    .join(', ')}

try:
  curl -s ${base}/healthz
  curl -s -X POST ${base}/infer/python -H 'content-type: application/json' -d '{"prompt":"hello"}'
  curl -s -X POST ${base}/infer/node -H 'content-type: application/json' -d '{"prompt":"hello"}'
  curl -s ${base}/api/users            # balanced over users-1 / users-2 (see X-Instance)
  curl -s ${base}/slow                 # ~120 ms upstream
  curl -s ${base}/metrics              # Prometheus: requests, latencies, bandwidth per route; upstream health
  curl -s -i ${base}/limited           # 200/s for all, 20/s per client (token buckets): 429 + Retry-After

circuit breaker (/infer/node is balanced over inference-b and inference-flaky):
  curl -s -X POST ${demo.services['inference-flaky'].url}/admin/fail   # inference-flaky now answers 503
  for i in $(seq 30); do curl -s -o /dev/null -w '%{http_code} ' -X POST ${base}/infer/node -d "{"prompt":"$i"}"; done
  curl -s ${node.admin ? `http://127.0.0.1:${node.admin.port}` : 'http://127.0.0.1:8001'}/circuit-breakers   # inference-flaky's breaker open
  curl -s -X DELETE ${demo.services['inference-flaky'].url}/admin/fail # healed: trial calls close it

${authCurlLines(base)}
Ctrl-C stops everything.
`)
}

/**
 * `portico demo-service NAME [--listen HOST:PORT]`: one demo service alone (the compose demo runs
 * each in its own container). Default address 0.0.0.0 on the service's port in `portico demo`
 * (9101 + its place in DEMO_SERVICE_NAMES), so the demo file's ports hold on every host.
 */
export async function demoServiceCommand(args: string[]): Promise<number | undefined> {
  const { values, positionals } = parseArgs({
    args,
    options: { listen: { type: 'string' } },
    allowPositionals: true,
  })
  const name = positionals[0] as DemoServiceName | undefined
  if (positionals.length !== 1 || name === undefined || !DEMO_SERVICE_NAMES.includes(name)) {
    process.stderr.write(`usage: portico demo-service ${DEMO_SERVICE_NAMES.join('|')} [--listen HOST:PORT]\n`)
    return 2
  }
  const at = parseAddress(values.listen ?? `0.0.0.0:${9101 + DEMO_SERVICE_NAMES.indexOf(name)}`, 'listen')
  const server = await startDemoService(name, at)
  process.stdout.write(`demo service ${name} on ${at.host}:${server.port}\n`)
  const stop = () => void server.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return undefined
}

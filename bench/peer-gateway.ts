/**
 * The gateway as `../shared/bench/peers.mjs` runs it (GATEWAY_CMD): one process on
 * 127.0.0.1:$PORT whose routes all lead to $UPSTREAM/json, one route per benchmark row:
 *
 *   /json            plain route (no plugins; node metrics totals as on any node with a status listener;
 *                    PORTICO_METRICS=off turns them off; usage analytics as on any node with an admin
 *                    listener, PORTICO_ANALYTICS=off turns them off: both off, no observer runs at all)
 *   /cid/json        correlation-id (Kong defaults: uuid#counter, sent upstream, no echo)
 *   /keyed/json      key-auth (header `apikey: k1`)
 *   /jwt/json        jwt, HS256 (header `authorization: Bearer <token>`, exp verified)
 *   /cached/json     proxy-cache, memory strategy, one-hour TTL: every request after the first is a hit
 *   /rl-local/json   rate-limiting, local policy, a limit never reached
 *   /rl-redis/json   rate-limiting, redis policy ($REDIS_URL), a limit never reached
 *   /combo/json      key-auth + redis rate limit + correlation-id (DESIGN §4's second budget row)
 *   /observed/json   prometheus plugin with every labelled series and an access log line per request
 *                    to $PEER_ACCESS_LOG (the access log is node-wide in Portico; here it is limited
 *                    to this row so the other rows of the same process measure a node without one)
 *
 * The jwt row's token is fixed (same secret and claims every run, exp in 2100):
 * `node dist/bench/peer-gateway.js --print-jwt` prints it; every start also writes it to
 * /tmp/portico-peer-jwt.txt.
 *
 *   GATEWAY_CMD="node $PWD/dist/bench/peer-gateway.js" \
 *   GATEWAY_ROWS="plain=/json;keyed=/keyed/json|apikey:k1;jwt=/jwt/json|authorization:Bearer $(node dist/bench/peer-gateway.js --print-jwt)" \
 *   ONLY=node-floor,plain,keyed,jwt node ../shared/bench/peers.mjs
 *
 * `PEER_WORKERS=N` runs it as a node of N workers (`portico start --workers N`: a primary and
 * N workers sharing the port, one configuration, node-wide limits), for the worker-overhead and
 * scaling rows (README, "Workers").
 */
import cluster from 'node:cluster'
import { createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_ANALYTICS } from '../src/analytics/index.js'
import { DEFAULT_SETTINGS, startNode } from '../src/main.js'
import { AccessLog } from '../src/observability/access-log.js'
import { measure } from '../src/observability/facts.js'
import { createLogger } from '../src/observability/logger.js'
import { createRegistry } from '../src/plugins/index.js'
import { Primary } from '../src/workers/primary.js'
import { connectToPrimary } from '../src/workers/worker.js'

// the jwt row's credential and its one token (HS256, deterministic: no iat, no jti)
const JWT_ISS = 'peer-bench'
const JWT_SECRET = 'peer-bench-hs256-secret-0123456789abcdef'
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
const jwtInput = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ iss: JWT_ISS, sub: 'bench', exp: 4102444800 }))}`
const jwtToken = `${jwtInput}.${b64(createHmac('sha256', JWT_SECRET).update(jwtInput).digest())}`
if (process.argv.includes('--print-jwt')) {
  console.log(jwtToken)
  process.exit(0)
}

const port = Number(process.env.PORT ?? 8080)
const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9001'
const redisUrl = process.env.REDIS_URL
const accessFile = process.env.PEER_ACCESS_LOG ?? join(tmpdir(), `portico-peer-access-${process.pid}.log`)

// rows that need Redis are left out when the harness gives none
const redisRows = redisUrl
  ? `
      - name: rl-redis
        paths: [/rl-redis/json]
        plugins: [{ name: rate-limiting, config: { minute: 1000000000, policy: redis } }]
      - name: combo
        paths: [/combo/json]
        plugins:
          - { name: key-auth }
          - { name: rate-limiting, config: { minute: 1000000000, policy: redis, limit_by: consumer } }
          - { name: correlation-id }`
  : ''

const config = `
_format_version: "3.0"
services:
  - name: backend
    url: ${upstream}
    routes:
      - { name: plain, paths: [/json], strip_path: false }
  - name: backend-json
    url: ${upstream}/json
    routes:
      # strip_path: the upstream gets exactly /json
      - name: cid
        paths: [/cid/json]
        plugins: [{ name: correlation-id }]
      - name: keyed
        paths: [/keyed/json]
        plugins: [{ name: key-auth }]
      - name: jwt
        paths: [/jwt/json]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp] } }]
      - name: cached
        paths: [/cached/json]
        plugins: [{ name: proxy-cache, config: { strategy: memory, cache_ttl: 3600 } }]
      - name: rl-local
        paths: [/rl-local/json]
        plugins: [{ name: rate-limiting, config: { minute: 1000000000, policy: local } }]${redisRows}
      - name: observed
        paths: [/observed/json]
        plugins:
          - name: prometheus
            config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, per_consumer: true }
consumers:
  - username: bench
    keyauth_credentials: [{ key: k1 }]
    jwt_secrets: [{ key: ${JWT_ISS}, algorithm: HS256, secret: ${JWT_SECRET} }]
`

const workers = Number(process.env.PEER_WORKERS ?? 1)
const log = createLogger({ level: 'warn' })
if (workers > 1 && cluster.isPrimary) {
  // the primary serves nothing: it forks the workers (this script again) and owns the node's state
  new Primary({ workers, configStore: 'memory', registry: createRegistry(), log }).start()
} else await gateway()

async function gateway(): Promise<void> {
  const file = join(tmpdir(), `portico-peer-${process.pid}.yaml`)
  writeFileSync(file, config)
  const node = await startNode(
    {
      ...DEFAULT_SETTINGS,
      proxy: { host: '127.0.0.1', port },
      // a status listener, as a default node has: it is what serves (and so turns on) /metrics
      status: { host: '127.0.0.1', port: 0 },
      // an admin listener, as a default node has: it is what serves (and so turns on) /analytics
      admin: { host: '127.0.0.1', port: 0 },
      analytics: /^(0|false|no|off)$/i.test(process.env.PORTICO_ANALYTICS ?? '') ? null : DEFAULT_ANALYTICS,
      redisUrl,
      declarativeConfig: file,
      drainTimeoutMs: 1000,
      metrics: !/^(0|false|no|off)$/i.test(process.env.PORTICO_METRICS ?? ''),
    },
    log,
    createRegistry(),
    cluster.isWorker ? connectToPrimary() : null,
  )
  const access = new AccessLog(accessFile, log)
  node.gateway.observers.push((ctx) => {
    if (ctx.route?.name === 'observed') access.write(ctx, measure(ctx, performance.now()))
  })
  console.log(`portico on :${node.proxy.port} -> ${upstream}`)
  writeFileSync('/tmp/portico-peer-jwt.txt', `${jwtToken}\n`)
  console.log(`jwt row token (also in /tmp/portico-peer-jwt.txt): Bearer ${jwtToken}`)
  const stop = () => void Promise.all([node.stop(), access.close()]).then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

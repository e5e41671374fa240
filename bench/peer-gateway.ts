/**
 * The gateway as `../shared/bench/peers.mjs` runs it (GATEWAY_CMD): one process on
 * 127.0.0.1:$PORT whose routes all lead to $UPSTREAM/json, one route per benchmark row:
 *
 *   /json          plain route (no plugins)
 *   /keyed/json    key-auth (header `apikey: k1`)
 *   /jwt/json      jwt, HS256 (header `authorization: Bearer <token>`, exp verified)
 *
 * The jwt row's token is fixed (same secret and claims every run, exp in 2100) so the row can
 * be written before the gateway starts: `node dist/bench/peer-gateway.js --print-jwt` prints it,
 * and every start also writes it to /tmp/portico-peer-jwt.txt.
 *
 * Usage: GATEWAY_CMD='node dist/bench/peer-gateway.js' \
 *   GATEWAY_ROWS="plain=/json;keyed=/keyed/json|apikey:k1;jwt=/jwt/json|authorization:Bearer $(node dist/bench/peer-gateway.js --print-jwt)" \
 *   node ../shared/bench/peers.mjs
 */
import { createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, startNode } from '../src/main.js'
import { createLogger } from '../src/observability/logger.js'

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
      - name: keyed
        paths: [/keyed/json]
        plugins: [{ name: key-auth }]
      - name: jwt
        paths: [/jwt/json]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp] } }]
consumers:
  - username: bench
    keyauth_credentials: [{ key: k1 }]
    jwt_secrets: [{ key: ${JWT_ISS}, algorithm: HS256, secret: ${JWT_SECRET} }]
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
writeFileSync('/tmp/portico-peer-jwt.txt', `${jwtToken}\n`)
console.log(`jwt row token (also in /tmp/portico-peer-jwt.txt): Bearer ${jwtToken}`)
const stop = () => void node.stop().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

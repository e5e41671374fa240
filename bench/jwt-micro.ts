/**
 * Micro-benchmark of the jwt plugin's per-request cost (single process, no network): what a
 * request pays in the access phase for an HS256 token, against jose's async verify and against
 * key-auth. Prints µs per operation; the peer benchmark (bench/peer-gateway.ts, /jwt/json vs
 * /json) is the end-to-end figure.
 *
 * Usage: npm run -s build && node dist/bench/jwt-micro.js [iterations]
 */
import { createHmac } from 'node:crypto'
import { jwtVerify, SignJWT } from 'jose'
import type { RequestContext } from '../src/core/context.js'
import type { PluginInstance } from '../src/core/plugin.js'
import { plugin as jwt } from '../src/plugins/jwt/plugin.js'
import { plugin as keyAuth } from '../src/plugins/key-auth/plugin.js'
import { fakeContext, testEnv } from '../src/plugins/kit/testing.js'

const N = Number(process.argv[2] ?? 200_000)
const SECRET = 'bench-hs256-secret-0123456789abcdef'
const key = new TextEncoder().encode(SECRET)
const doc = {
  consumers: [{ id: 'c1', username: 'bench' }],
  jwt_secrets: [
    { id: 'j1', consumer: { id: 'c1' }, key: 'bench-iss', algorithm: 'HS256' as const, secret: SECRET },
  ],
  keyauth_credentials: [{ id: 'k1', consumer: { id: 'c1' }, key: 'k1' }],
}
const exp = Math.floor(Date.now() / 1000) + 3600
const token = await new SignJWT({ iss: 'bench-iss', sub: 'bench', exp })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .sign(key)

function measure(name: string, n: number, op: (i: number) => void): void {
  for (let i = 0; i < Math.min(n, 20_000); i++) op(i) // warm-up
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) op(i)
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n
  console.log(
    `${name.padEnd(46)} ${us.toFixed(2).padStart(7)} µs/op  (${Math.round(1e6 / us).toLocaleString()} op/s)`,
  )
}
async function measureAsync(name: string, n: number, op: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(n, 5000); i++) await op()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await op()
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n
  console.log(
    `${name.padEnd(46)} ${us.toFixed(2).padStart(7)} µs/op  (${Math.round(1e6 / us).toLocaleString()} op/s)`,
  )
}

const ctx = (headers: Record<string, string>): RequestContext => fakeContext({ path: '/jwt/json', headers })
const access = (p: PluginInstance) => p.access as (c: RequestContext) => unknown

const jwtHit = access(
  (await jwt.create(jwt.schema.parse({ claims_to_verify: ['exp'] }), testEnv(doc))) as PluginInstance,
)
const keyed = access((await keyAuth.create(keyAuth.schema.parse({}), testEnv(doc))) as PluginInstance)
const bearer = `Bearer ${token}`

console.log(`jwt micro-benchmark, ${N.toLocaleString()} iterations, node ${process.version}`)
measure('baseline: new RequestContext only', N, () => ctx({ authorization: bearer }))
measure('key-auth access (valid key)', N, () => {
  if (keyed(ctx({ apikey: 'k1' })) !== undefined) throw new Error('refused')
})
measure('jwt access, HS256, verified-token cache hit', N, () => {
  if (jwtHit(ctx({ authorization: bearer })) !== undefined) throw new Error('refused')
})
// a new instance per batch defeats the cache: every token is decoded and its HMAC checked
const tokens = await Promise.all(
  Array.from({ length: 5000 }, (_, i) =>
    new SignJWT({ iss: 'bench-iss', exp, n: i }).setProtectedHeader({ alg: 'HS256' }).sign(key),
  ),
)
let cold = jwtHit
measure('jwt access, HS256, cache miss (decode + HMAC)', 100_000, (i) => {
  if (i % tokens.length === 0) {
    cold = access(jwt.create(jwt.schema.parse({ claims_to_verify: ['exp'] }), testEnv(doc)) as PluginInstance)
  }
  if (cold(ctx({ authorization: `Bearer ${tokens[i % tokens.length]}` })) !== undefined)
    throw new Error('refused')
})
const signingInput = token.slice(0, token.lastIndexOf('.'))
measure('node:crypto createHmac alone (for scale)', N, () =>
  createHmac('sha256', SECRET).update(signingInput).digest(),
)
await measureAsync('jose jwtVerify (async), HS256', Math.floor(N / 4), () =>
  jwtVerify(token, key, { algorithms: ['HS256'] }),
)

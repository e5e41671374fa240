import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { PluginInstance, Reply } from '../../core/plugin.js'
import { body, edits, fakeContext, run, testEnv, testServices } from '../kit/testing.js'
import { plugin } from './plugin.js'
import { nodeRevocations } from './revocation/node.js'
import { forge, nowS } from './testing.js'

const SECRET = 'alice-hs256-demo-secret-0123456789abcdef'
const enc = (s: string) => new TextEncoder().encode(s)
const rsa = await generateKeyPair('RS256', { extractable: true })
const rsaPem = await exportSPKI(rsa.publicKey)

const consumers = [
  { id: 'c-alice', username: 'alice', custom_id: 'A' },
  { id: 'c-bob', username: 'bob' },
  { id: 'c-guest', username: 'guest' },
]
const jwt_secrets = [
  {
    id: 'j-alice',
    consumer: { id: 'c-alice' },
    key: 'alice-iss',
    algorithm: 'HS256' as const,
    secret: SECRET,
  },
  {
    id: 'j-bob',
    consumer: { id: 'c-bob' },
    key: 'bob-iss',
    algorithm: 'RS256' as const,
    rsa_public_key: rsaPem,
  },
  {
    id: 'j-b64',
    consumer: { id: 'c-bob' },
    key: 'b64-iss',
    algorithm: 'HS512' as const,
    secret: Buffer.from('raw-bytes-secret').toString('base64'),
  },
  {
    id: 'j-orphan',
    consumer: { id: 'c-gone' },
    key: 'orphan-iss',
    algorithm: 'HS256' as const,
    secret: SECRET,
  },
]

function build(
  config: Record<string, unknown> = {},
  services = testServices(),
  secrets = jwt_secrets,
): PluginInstance {
  return plugin.create(
    plugin.schema.parse(config),
    testEnv({ consumers, jwt_secrets: secrets }, services),
  ) as PluginInstance
}
const hs = (claims: Record<string, unknown>, secret = SECRET, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256') =>
  new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(enc(secret))
const bearer = (token: string) => fakeContext({ headers: { authorization: `Bearer ${token}` } })
async function refused(access: PluginInstance['access'], token: string): Promise<Reply> {
  const r = await run(access, bearer(token))
  assert.ok(r, 'refused')
  assert.equal(r.status, 401)
  return r
}

test("schema: Kong 3.x defaults plus leeway and logout_paths; Kong's conditional check", () => {
  assert.deepEqual(plugin.schema.parse({}), {
    uri_param_names: ['jwt'],
    cookie_names: [],
    header_names: ['authorization'],
    key_claim_name: 'iss',
    secret_is_base64: false,
    run_on_preflight: true,
    maximum_expiration: 0,
    leeway: 0,
    logout_paths: [],
  })
  assert.equal(plugin.priority, 1450)
  assert.equal(plugin.schema.safeParse({ maximum_expiration: 60 }).success, false)
  assert.equal(plugin.schema.safeParse({ maximum_expiration: 60, claims_to_verify: ['exp'] }).success, true)
  assert.equal(plugin.schema.safeParse({ claims_to_verify: ['iat'] }).success, false)
  assert.equal(plugin.schema.safeParse({ leeway: 301 }).success, false)
  assert.equal(plugin.schema.safeParse({ logout_paths: ['no-slash'] }).success, false)
})

test('an HS256 token authenticates: identity headers with the credential key as identifier', async () => {
  const ctx = bearer(await hs({ iss: 'alice-iss' }))
  assert.equal(await run(build().access, ctx), undefined)
  assert.equal(ctx.consumer?.username, 'alice')
  assert.deepEqual(ctx.credential, { id: 'j-alice', identifier: 'alice-iss' })
  assert.deepEqual(edits(ctx), {
    'x-consumer-id': 'c-alice',
    'x-consumer-custom-id': 'A',
    'x-consumer-username': 'alice',
    'x-credential-identifier': 'alice-iss',
    'x-anonymous-consumer': null,
  })
})

test("RS256 with the credential's public key; HS512 with a base64 secret", async () => {
  const t = await new SignJWT({ iss: 'bob-iss' }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey)
  const ctx = bearer(t)
  assert.equal(await run(build().access, ctx), undefined)
  assert.equal(ctx.consumer?.username, 'bob')
  const b = await hs({ iss: 'b64-iss' }, 'raw-bytes-secret', 'HS512')
  assert.equal(await run(build({ secret_is_base64: true }).access, bearer(b)), undefined)
  assert.equal(body(await refused(build().access, b)).message, 'Invalid signature')
})

test("Kong's messages for each refusal, with WWW-Authenticate: Bearer", async () => {
  const access = build().access
  const none = await run(access, fakeContext({}))
  assert.equal(none?.status, 401)
  assert.equal(body(none).message, 'Unauthorized')
  assert.equal(none?.headers?.['www-authenticate'], 'Bearer')
  const cases: Array<[string, string]> = [
    ['garbage', 'Bad token; invalid JSON'],
    [forge({ alg: 'none' }, { iss: 'alice-iss' }, null), 'Bad token; invalid alg'],
    [await hs({ sub: 'x' }), "No mandatory 'iss' in claims"],
    [await hs({ iss: '' }), "Invalid 'iss' in claims"],
    [await hs({ iss: 'carol-iss' }), "No credentials found for given 'iss'"],
    [await hs({ iss: 'alice-iss' }, SECRET, 'HS384'), 'Invalid algorithm'],
    [await hs({ iss: 'alice-iss' }, 'not-the-secret'), 'Invalid signature'],
    [await hs({ iss: 'orphan-iss' }), "Could not find consumer for 'iss=orphan-iss'"],
  ]
  for (const [token, message] of cases) {
    const r = await refused(access, token)
    assert.deepEqual(body(r), { message }, `${message}: kong.response.exit, no request_id`)
  }
  const two = fakeContext({
    query: `jwt=${await hs({ iss: 'alice-iss' })}`,
    headers: { authorization: 'Bearer other' },
  })
  const r = await run(access, two)
  assert.equal(body(r).message, 'Multiple tokens provided')
  assert.equal(r?.headers?.['www-authenticate'], 'Bearer error="invalid_token"')
  const realm = await run(build({ realm: 'api' }).access, bearer('garbage'))
  assert.equal(realm?.headers?.['www-authenticate'], 'Bearer realm="api", error="invalid_token"')
})

test("claims_to_verify and maximum_expiration answer Kong's error objects", async () => {
  const access = build({ claims_to_verify: ['exp', 'nbf'], maximum_expiration: 3600 }).access
  assert.deepEqual(
    body(await refused(access, await hs({ iss: 'alice-iss', exp: nowS() - 1, nbf: nowS() }))),
    {
      exp: 'token expired',
    },
  )
  assert.deepEqual(body(await refused(access, await hs({ iss: 'alice-iss', nbf: nowS() }))), {
    exp: 'must be a number',
  })
  assert.deepEqual(
    body(await refused(access, await hs({ iss: 'alice-iss', exp: nowS() + 60, nbf: nowS() + 60 }))),
    {
      nbf: 'token not valid yet',
    },
  )
  assert.deepEqual(
    body(await refused(access, await hs({ iss: 'alice-iss', exp: nowS() + 7200, nbf: nowS() }))),
    {
      exp: 'exceeds maximum allowed expiration',
    },
  )
  assert.equal(
    await run(access, bearer(await hs({ iss: 'alice-iss', exp: nowS() + 600, nbf: nowS() }))),
    undefined,
  )
  // without claims_to_verify an expired token passes, as in Kong
  assert.equal(
    await run(build().access, bearer(await hs({ iss: 'alice-iss', exp: nowS() - 100 }))),
    undefined,
  )
})

test('key_claim_name falls back to the header (Kong: claims[k] or header[k])', async () => {
  const t = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'alice-iss' }).sign(enc(SECRET))
  assert.equal(await run(build({ key_claim_name: 'kid' }).access, bearer(t)), undefined)
  assert.equal(body(await refused(build().access, t)).message, "No mandatory 'iss' in claims")
})

test('rotation: several secrets under one key, any of them verifies; the others still refuse', async () => {
  const secrets = [
    ...jwt_secrets,
    {
      id: 'j-alice-2',
      consumer: { id: 'c-alice' },
      key: 'alice-iss',
      algorithm: 'HS256' as const,
      secret: 'the-new-secret-0123456789abcdefgh',
    },
  ]
  const access = build({}, testServices(), secrets).access
  const old = bearer(await hs({ iss: 'alice-iss' }))
  assert.equal(await run(access, old), undefined)
  assert.equal(old.credential?.id, 'j-alice')
  const fresh = bearer(await hs({ iss: 'alice-iss' }, 'the-new-secret-0123456789abcdefgh'))
  assert.equal(await run(access, fresh), undefined)
  assert.equal(fresh.credential?.id, 'j-alice-2')
  assert.equal(
    body(await refused(access, await hs({ iss: 'alice-iss' }, 'neither'))).message,
    'Invalid signature',
  )
})

test('anonymous and run_on_preflight', async () => {
  const anon = build({ anonymous: 'guest' }).access
  const ctx = bearer('garbage')
  assert.equal(await run(anon, ctx), undefined)
  assert.equal(ctx.consumer?.id, 'c-guest')
  assert.equal(edits(ctx)['x-anonymous-consumer'], 'true')
  assert.equal(
    await run(build({ run_on_preflight: false }).access, fakeContext({ method: 'OPTIONS' })),
    undefined,
  )
})

test('a revoked token is refused, also when its signature was checked before (cached)', async () => {
  const services = testServices()
  const access = build({}, services).access
  const token = await hs({ iss: 'alice-iss', jti: 'id-1', exp: nowS() + 600 })
  assert.equal(await run(access, bearer(token)), undefined)
  await nodeRevocations(services).revoke('id-1', nowS() + 600)
  assert.equal(body(await refused(access, token)).message, 'Token revoked')
  await nodeRevocations(services).unrevoke('id-1')
  assert.equal(await run(access, bearer(token)), undefined)
})

test('logout_paths: a valid token is revoked and the gateway answers 200; a bad one gets the usual 401', async () => {
  const services = testServices()
  const access = build({ logout_paths: ['/logout'], anonymous: 'guest' }, services).access
  const token = await hs({ iss: 'alice-iss', exp: nowS() + 600 })
  const out = fakeContext({ path: '/logout', headers: { authorization: `Bearer ${token}` } })
  const r = await run(access, out)
  assert.equal(r?.status, 200)
  assert.deepEqual(body(r), { message: 'revoked' })
  assert.equal(out.consumer?.username, 'alice')
  // the same node, another jwt instance without anonymous: the token is revoked there too
  assert.equal(body(await refused(build({}, services).access, token)).message, 'Token revoked')
  // no jti: revoked under the token's SHA-256
  assert.equal(nodeRevocations(services).size, 1)
  const bad = await run(
    access,
    fakeContext({ path: '/logout', headers: { authorization: 'Bearer garbage' } }),
  )
  assert.equal(bad?.status, 401, 'no anonymous fallback on a logout path')
  // other paths keep the anonymous fallback
  const elsewhere = bearer(token)
  assert.equal(await run(access, elsewhere), undefined)
  assert.equal(elsewhere.anonymous, true)
})

test('a token over 8 KiB is refused before decoding', async () => {
  const big = await hs({ iss: 'alice-iss', pad: 'x'.repeat(9000) })
  assert.equal(body(await refused(build().access, big)).message, 'Bad token; too large')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword } from '../../config/password.js'
import type { PluginInstance } from '../../core/plugin.js'
import type { VerifiedPasswords } from '../kit/auth/verified-passwords.js'
import { body, edits, fakeContext, run, testEnv, testServices } from '../kit/testing.js'
import { parseBasic, plugin } from './plugin.js'

const consumers = [
  { id: 'c-alice', username: 'alice' },
  { id: 'c-guest', username: 'guest' },
]
const basicauth_credentials = [
  {
    id: 'b-alice',
    consumer: { id: 'c-alice' },
    username: 'alice',
    password: hashPassword('alice-password', 'b-alice'),
  },
]
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

function build(config: Record<string, unknown> = {}, services = testServices()): PluginInstance {
  return plugin.create(
    plugin.schema.parse(config),
    testEnv({ consumers, basicauth_credentials }, services),
  ) as PluginInstance
}

test('schema: Kong 3.x fields and defaults', () => {
  assert.deepEqual(plugin.schema.parse({}), { hide_credentials: false, realm: 'service' })
  assert.equal(plugin.priority, 1100)
  assert.equal(plugin.schema.safeParse({ brute_force_protection: {} }).success, false)
})

test('parseBasic: strict base64 and a user before the first colon', () => {
  assert.deepEqual(parseBasic(basic('alice', 'pa:ss')), ['alice', 'pa:ss'])
  assert.deepEqual(parseBasic(`basic ${Buffer.from('a:').toString('base64')}`), ['a', ''])
  assert.equal(parseBasic(undefined), undefined)
  assert.equal(parseBasic('Bearer abc'), undefined)
  assert.equal(parseBasic(`Basic ${Buffer.from(':pw').toString('base64')}`), undefined)
  assert.equal(parseBasic(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined)
  assert.equal(parseBasic('Basic !!!!'), undefined)
})

test('the right password authenticates; the second time without scrypt', async () => {
  const services = testServices()
  const access = build({}, services).access
  const ctx = fakeContext({ headers: { authorization: basic('alice', 'alice-password') } })
  assert.equal(await run(access, ctx), undefined)
  assert.equal(ctx.consumer?.username, 'alice')
  // Kong's basic-auth identifies the credential by its username
  assert.equal(edits(ctx)['x-credential-identifier'], 'alice')
  const verified = services.shared<VerifiedPasswords>('basic-auth:verified', () => assert.fail('created'))
  assert.equal(verified.runs, 1)
  const again = fakeContext({ headers: { authorization: basic('alice', 'alice-password') } })
  const r = access!(again)
  assert.equal(r, undefined, 'a remembered password is checked synchronously')
  // a reload (new instance) keeps what was verified
  assert.equal(
    build({}, services).access!(
      fakeContext({ headers: { authorization: basic('alice', 'alice-password') } }),
    ),
    undefined,
  )
  assert.equal(verified.runs, 1)
})

test("Kong's 401s with WWW-Authenticate: Basic realm", async () => {
  const access = build().access
  const none = await run(access, fakeContext({}))
  assert.equal(none?.status, 401)
  assert.equal(body(none).message, 'Unauthorized')
  assert.equal(none?.headers?.['www-authenticate'], 'Basic realm="service"')
  for (const authorization of [
    basic('alice', 'wrong'),
    basic('mallory', 'alice-password'),
    'Basic %%%',
    'Bearer x',
  ]) {
    const r = await run(access, fakeContext({ headers: { authorization } }))
    assert.equal(r?.status, 401, authorization)
    assert.equal(body(r).message, 'Unauthorized', 'Kong answers every basic-auth failure alike')
    assert.equal(body(r).request_id, 'req-1', 'kong.response.error carries the request id')
    assert.equal(r?.headers?.['www-authenticate'], 'Basic realm="service"')
  }
  const realm = await run(build({ realm: 'internal' }).access, fakeContext({}))
  assert.equal(realm?.headers?.['www-authenticate'], 'Basic realm="internal"')
})

test('Proxy-Authorization is tried first, Authorization when it names no known user', async () => {
  const access = build().access
  const proxy = fakeContext({ headers: { 'proxy-authorization': basic('alice', 'alice-password') } })
  assert.equal(await run(access, proxy), undefined)
  const fallback = fakeContext({
    headers: { 'proxy-authorization': basic('nobody', 'x'), authorization: basic('alice', 'alice-password') },
  })
  assert.equal(await run(access, fallback), undefined)
  const wrong = fakeContext({
    headers: {
      'proxy-authorization': basic('alice', 'wrong'),
      authorization: basic('alice', 'alice-password'),
    },
  })
  assert.equal((await run(access, wrong))?.status, 401)
})

test('hide_credentials removes both headers upstream', async () => {
  const ctx = fakeContext({
    headers: { authorization: basic('alice', 'alice-password'), 'proxy-authorization': basic('x', 'y') },
  })
  await run(build({ hide_credentials: true }).access, ctx)
  assert.equal(edits(ctx).authorization, null)
  assert.equal(edits(ctx)['proxy-authorization'], null)
})

test('anonymous: wrong or missing credentials continue as the anonymous consumer', async () => {
  const access = build({ anonymous: 'guest' }).access
  for (const ctx of [fakeContext({}), fakeContext({ headers: { authorization: basic('alice', 'nope') } })]) {
    assert.equal(await run(access, ctx), undefined)
    assert.equal(ctx.consumer?.id, 'c-guest')
    assert.equal(ctx.anonymous, true)
  }
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PluginInstance } from '../../core/plugin.js'
import { body, edits, fakeContext, run, testEnv, testServices } from '../kit/testing.js'
import { plugin } from './plugin.js'

const consumers = [
  { id: 'c-alice', username: 'alice', custom_id: 'A-1' },
  { id: 'c-guest', username: 'guest' },
]
const keyauth_credentials = [
  { id: 'k-alice', consumer: { id: 'c-alice' }, key: 'alice-key' },
  { id: 'k-old', consumer: { id: 'c-alice' }, key: 'old-key', ttl: 10, created_at: Date.now() / 1000 - 11 },
  { id: 'k-new', consumer: { id: 'c-alice' }, key: 'new-key', ttl: 3600, created_at: Date.now() / 1000 - 5 },
]

function build(config: Record<string, unknown> = {}, services = testServices()): PluginInstance {
  return plugin.create(
    plugin.schema.parse(config),
    testEnv({ consumers, keyauth_credentials }, services),
  ) as PluginInstance
}

test('schema: Kong 3.x defaults, unknown fields refused, identity_realms only at its default', () => {
  assert.deepEqual(plugin.schema.parse({}), {
    key_names: ['apikey'],
    hide_credentials: false,
    key_in_header: true,
    key_in_query: true,
    key_in_body: false,
    run_on_preflight: true,
  })
  assert.equal(plugin.priority, 1250)
  assert.equal(plugin.noConsumer, true)
  assert.equal(plugin.schema.safeParse({ keynames: ['x'] }).success, false)
  assert.equal(plugin.schema.safeParse({ key_names: [] }).success, false)
  assert.equal(plugin.schema.safeParse({ key_names: ['bad name'] }).success, false)
  assert.equal(
    plugin.schema.safeParse({ identity_realms: [{ scope: 'cp', id: null, region: null }] }).success,
    true,
  )
  assert.equal(plugin.schema.safeParse({ identity_realms: [{ scope: 'realm', id: 'x' }] }).success, false)
})

test('a valid key in the header authenticates and sets the identity headers', async () => {
  const ctx = fakeContext({ headers: { apikey: 'alice-key', 'x-consumer-id': 'spoofed' } })
  assert.equal(await run(build().access, ctx), undefined)
  assert.deepEqual(ctx.consumer, { id: 'c-alice', username: 'alice', custom_id: 'A-1' })
  assert.deepEqual(ctx.credential, { id: 'k-alice', identifier: 'k-alice' })
  assert.deepEqual(edits(ctx), {
    'x-consumer-id': 'c-alice',
    'x-consumer-custom-id': 'A-1',
    'x-consumer-username': 'alice',
    'x-credential-identifier': 'k-alice',
    'x-anonymous-consumer': null,
  })
})

test('a valid key in the query string authenticates; key_in_query false ignores it', async () => {
  const ctx = fakeContext({ query: 'a=1&apikey=alice-key' })
  assert.equal(await run(build().access, ctx), undefined)
  assert.equal(ctx.consumer?.username, 'alice')
  const off = await run(build({ key_in_query: false }).access, fakeContext({ query: 'apikey=alice-key' }))
  assert.equal(off?.status, 401)
  assert.equal(body(off).message, 'No API key found in request')
  const noHeader = await run(
    build({ key_in_header: false }).access,
    fakeContext({ headers: { apikey: 'alice-key' } }),
  )
  assert.equal(body(noHeader).message, 'No API key found in request')
})

test("Kong's 401s: no key, empty key, unknown key, duplicate key; WWW-Authenticate with the realm", async () => {
  const access = build().access
  for (const [ctx, message] of [
    [fakeContext({}), 'No API key found in request'],
    [fakeContext({ headers: { apikey: '' } }), 'No API key found in request'],
    [fakeContext({ query: 'apikey' }), 'No API key found in request'],
    [fakeContext({ headers: { apikey: 'wrong' } }), 'Unauthorized'],
    [fakeContext({ query: 'apikey=a&apikey=b' }), 'Duplicate API key found'],
    [fakeContext({ headers: { apikey: ['alice-key', 'alice-key'] } }), 'Duplicate API key found'],
  ] as const) {
    if (Array.isArray(ctx.req.headers.apikey)) ctx.req.headers.apikey = ctx.req.headers.apikey.join(', ')
    const r = await run(access, ctx)
    assert.equal(r?.status, 401, message)
    assert.equal(body(r).message, message)
    assert.equal(body(r).request_id, 'req-1')
    assert.equal(r?.headers?.['www-authenticate'], 'Key', 'no realm configured: Kong sends `Key`')
  }
  const realm = await run(build({ realm: 'api' }).access, fakeContext({}))
  assert.equal(realm?.headers?.['www-authenticate'], 'Key realm="api"')
})

test('key_names: any of several names, header names case-insensitive, query names exact', async () => {
  const access = build({ key_names: ['X-API-Key', 'token'] }).access
  const h = fakeContext({ headers: { 'x-api-key': 'alice-key' } })
  assert.equal(await run(access, h), undefined)
  const q = fakeContext({ query: 'token=alice-key' })
  assert.equal(await run(access, q), undefined)
  assert.equal((await run(access, fakeContext({ query: 'x-api-key=alice-key' })))?.status, 401)
})

test('hide_credentials removes the key from the upstream header and query string', async () => {
  const access = build({ hide_credentials: true }).access
  const h = fakeContext({ headers: { apikey: 'alice-key' } })
  await run(access, h)
  assert.equal(edits(h).apikey, null)
  const q = fakeContext({ query: 'a=1&apikey=alice-key&b=2' })
  await run(access, q)
  assert.equal(q.upstreamQuery, 'a=1&b=2')
  const kept = fakeContext({ query: 'a=1&apikey=alice-key' })
  await run(build().access, kept)
  assert.equal(kept.upstreamQuery, 'a=1&apikey=alice-key')
})

test('ttl: an expired key is refused as unknown, a live one passes', async () => {
  const access = build().access
  const r = await run(access, fakeContext({ headers: { apikey: 'old-key' } }))
  assert.equal(r?.status, 401)
  assert.equal(body(r).message, 'Unauthorized')
  assert.equal(await run(access, fakeContext({ headers: { apikey: 'new-key' } })), undefined)
})

test('ttl without created_at counts from when the node first saw the key, across reloads', async () => {
  const services = testServices()
  const creds = [{ id: 'k-t', consumer: { id: 'c-alice' }, key: 'ttl-key', ttl: 1 }]
  const make = () =>
    plugin.create(
      plugin.schema.parse({}),
      testEnv({ consumers, keyauth_credentials: creds }, services),
    ) as PluginInstance
  const first = make()
  assert.equal(await run(first.access, fakeContext({ headers: { apikey: 'ttl-key' } })), undefined)
  await new Promise((r) => setTimeout(r, 1100))
  // a reload builds a new instance: the key must not get a fresh ttl
  const reloaded = make()
  assert.equal((await run(reloaded.access, fakeContext({ headers: { apikey: 'ttl-key' } })))?.status, 401)
})

test('anonymous: a missing or wrong key continues as the anonymous consumer (by username or id)', async () => {
  for (const anonymous of ['guest', 'c-guest']) {
    const access = build({ anonymous }).access
    for (const ctx of [fakeContext({}), fakeContext({ headers: { apikey: 'wrong' } })]) {
      assert.equal(await run(access, ctx), undefined)
      assert.equal(ctx.consumer?.id, 'c-guest')
      assert.equal(ctx.credential, null)
      assert.equal(edits(ctx)['x-anonymous-consumer'], 'true')
    }
  }
  const missing = await run(build({ anonymous: 'nobody' }).access, fakeContext({}))
  assert.equal(missing?.status, 500)
  assert.deepEqual(body(missing), {
    message: "anonymous consumer nobody is configured but doesn't exist",
    request_id: 'req-1',
  })
})

test('run_on_preflight false lets OPTIONS through without a key', async () => {
  assert.equal(
    await run(build({ run_on_preflight: false }).access, fakeContext({ method: 'OPTIONS' })),
    undefined,
  )
  assert.equal((await run(build().access, fakeContext({ method: 'OPTIONS' })))?.status, 401)
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PluginDefinition } from '../../src/core/plugin.js'
import { call, gateway } from '../fixtures/helpers.js'
import { stack } from '../fixtures/stack.js'

// a consumer-scoped plugin: proves the auth plugins' ctx.consumer drives plugin selection
const consumerTag: PluginDefinition<{ tag: string }> = {
  name: 'consumer-tag',
  priority: 800,
  schema: { parse: (v: unknown) => v, safeParse: (v: unknown) => ({ success: true, data: v }) } as never,
  create: (config) => ({ access: (ctx) => void ctx.setUpstreamHeader('x-tag', config.tag) }),
}

const config = (url: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    custom_id: A-1
    keyauth_credentials: [{ key: alice-key }]
    basicauth_credentials: [{ username: alice, password: alice-password }]
    acls: [{ group: admins }, { group: users }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
    acls: [{ group: users }]
  - username: guest
services:
  - name: s
    url: ${url}
    routes:
      - name: keyed
        paths: [/keyed]
        plugins: [{ name: key-auth }]
      - name: hidden
        paths: [/hidden]
        plugins: [{ name: key-auth, config: { hide_credentials: true, key_in_body: true } }]
      - name: body
        paths: [/body]
        plugins: [{ name: key-auth, config: { key_in_body: true, key_in_header: false, key_in_query: false } }]
      - name: open
        paths: [/open]
        plugins: [{ name: key-auth, config: { anonymous: guest } }]
      - name: basic
        paths: [/basic]
        plugins: [{ name: basic-auth, config: { hide_credentials: true } }]
      - name: admins
        paths: [/admins]
        plugins: [{ name: key-auth }, { name: acl, config: { allow: [admins] } }]
      - name: not-bob
        paths: [/not-bob]
        plugins: [{ name: key-auth, config: { anonymous: guest } }, { name: acl, config: { deny: [nobody], hide_groups_header: true } }]
      - name: acl-only
        paths: [/acl-only]
        plugins: [{ name: acl, config: { allow: [users] } }]
plugins:
  - name: consumer-tag
    consumer: alice
    config: { tag: alice-only }
`

describe('key-auth, basic-auth and acl through a real gateway', () => {
  const s = stack({ start: (up) => gateway(config(up.url), {}, [consumerTag as PluginDefinition]) })
  const last = () => s.up.seen.at(-1)!

  test('key-auth: a valid key reaches the upstream with the identity headers, spoofed ones replaced', async () => {
    const r = await call(`${s.gw.url}/keyed?x=1`, {
      headers: {
        apikey: 'alice-key',
        'x-consumer-id': 'root',
        'x-consumer-username': 'root',
        'x-anonymous-consumer': 'x',
      },
    })
    assert.equal(r.status, 200)
    const h = last().headers
    assert.equal(h['x-consumer-username'], 'alice')
    assert.equal(h['x-consumer-custom-id'], 'A-1')
    assert.match(String(h['x-consumer-id']), /^[0-9a-f-]{36}$/)
    assert.match(String(h['x-credential-identifier']), /^[0-9a-f-]{36}$/)
    assert.equal(h['x-anonymous-consumer'], undefined)
    assert.equal(h.apikey, 'alice-key', 'not hidden by default')
    assert.equal(h['x-tag'], 'alice-only', 'the consumer-scoped plugin ran for alice')
    const bob = await call(`${s.gw.url}/keyed?apikey=bob-key`)
    assert.equal(bob.status, 200)
    assert.equal(last().headers['x-consumer-username'], 'bob')
    assert.equal(last().headers['x-tag'], undefined, 'and not for bob')
  })

  test("key-auth: Kong's 401 bodies and challenge; the upstream sees nothing", async () => {
    const before = s.up.seen.length
    const none = await call(`${s.gw.url}/keyed`)
    assert.equal(none.status, 401)
    assert.equal((none.json() as { message: string }).message, 'No API key found in request')
    assert.equal(none.headers['www-authenticate'], 'Key')
    const bad = await call(`${s.gw.url}/keyed`, { headers: { apikey: 'nope' } })
    assert.equal(bad.status, 401)
    assert.equal((bad.json() as { message: string }).message, 'Unauthorized')
    const dup = await call(`${s.gw.url}/keyed?apikey=a&apikey=b`)
    assert.equal((dup.json() as { message: string }).message, 'Duplicate API key found')
    assert.equal(s.up.seen.length, before)
  })

  test('key-auth hide_credentials: the key leaves the header, the query string and a JSON body', async () => {
    await call(`${s.gw.url}/hidden?a=1&apikey=alice-key&b=2`, { headers: { apikey2: 'x' } })
    assert.equal(last().url, '/?a=1&b=2')
    await call(`${s.gw.url}/hidden`, { headers: { apikey: 'alice-key' } })
    assert.equal(last().headers.apikey, undefined)
    const r = await call(`${s.gw.url}/hidden`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apikey: 'bob-key', keep: 1 }),
    })
    assert.equal(r.status, 200)
    assert.deepEqual(JSON.parse(last().body.toString()), { keep: 1 })
    assert.equal(last().headers['content-length'], String(last().body.length))
    assert.equal(last().headers['x-consumer-username'], 'bob')
  })

  test('key-auth key_in_body: JSON and form bodies; the body still reaches the upstream intact', async () => {
    const json = await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apikey: 'alice-key', data: [1, 2] }),
    })
    assert.equal(json.status, 200)
    assert.deepEqual(JSON.parse(last().body.toString()), { apikey: 'alice-key', data: [1, 2] })
    const form = await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1&apikey=bob-key',
    })
    assert.equal(form.status, 200)
    assert.equal(last().headers['x-consumer-username'], 'bob')
    assert.equal(last().body.toString(), 'x=1&apikey=bob-key')
    const text = await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'apikey=alice-key',
    })
    assert.equal(text.status, 401, 'only JSON and form bodies are read')
  })

  test('key-auth anonymous: no key continues as the anonymous consumer', async () => {
    const r = await call(`${s.gw.url}/open`)
    assert.equal(r.status, 200)
    assert.equal(last().headers['x-consumer-username'], 'guest')
    assert.equal(last().headers['x-anonymous-consumer'], 'true')
    assert.equal(last().headers['x-credential-identifier'], undefined)
  })

  test("basic-auth: right password passes (credentials hidden), wrong ones get Kong's 401s", async () => {
    const auth = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`
    const ok = await call(`${s.gw.url}/basic`, { headers: { authorization: auth } })
    assert.equal(ok.status, 200)
    assert.equal(last().headers['x-consumer-username'], 'alice')
    assert.equal(last().headers.authorization, undefined)
    const before = s.up.seen.length
    const none = await call(`${s.gw.url}/basic`)
    assert.equal(none.status, 401)
    assert.equal((none.json() as { message: string }).message, 'Unauthorized')
    assert.equal(none.headers['www-authenticate'], 'Basic realm="service"')
    const wrong = await call(`${s.gw.url}/basic`, {
      headers: { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` },
    })
    assert.equal(wrong.status, 401)
    assert.equal((wrong.json() as { message: string }).message, 'Unauthorized')
    assert.equal(s.up.seen.length, before)
  })

  test('acl: allowed groups pass with X-Consumer-Groups; others 403; no auth at all 401', async () => {
    const ok = await call(`${s.gw.url}/admins`, {
      headers: { apikey: 'alice-key', 'x-consumer-groups': 'spoofed' },
    })
    assert.equal(ok.status, 200)
    assert.equal(last().headers['x-consumer-groups'], 'admins, users')
    const before = s.up.seen.length
    const bob = await call(`${s.gw.url}/admins`, { headers: { apikey: 'bob-key' } })
    assert.equal(bob.status, 403)
    assert.equal((bob.json() as { message: string }).message, 'You cannot consume this service')
    const nobody = await call(`${s.gw.url}/acl-only`)
    assert.equal(nobody.status, 401)
    assert.equal((nobody.json() as { message: string }).message, 'Unauthorized')
    assert.equal(s.up.seen.length, before)
  })

  test('acl deny with hide_groups_header: an anonymous guest in no group passes, the header never goes up', async () => {
    const r = await call(`${s.gw.url}/not-bob`, { headers: { 'x-consumer-groups': 'spoofed' } })
    assert.equal(r.status, 200)
    assert.equal(last().headers['x-consumer-groups'], undefined)
    assert.equal(last().headers['x-consumer-username'], 'guest')
  })
})

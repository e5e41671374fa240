import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { resolveSettings } from '../../src/cli/settings.js'
import { DEFAULT_SETTINGS } from '../../src/main.js'
import { gateway, type Upstream, upstream } from '../fixtures/helpers.js'
import { get, RawClient } from '../fixtures/raw-http.js'

type Node = Awaited<ReturnType<typeof gateway>>

const config = (url: string) => `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: s
    url: ${url}
    routes:
      - name: open
        paths: [/open]
      - name: auth
        paths: [/auth]
        plugins: [{ name: key-auth }]
      - name: underscored-key
        paths: [/uk]
        plugins: [{ name: key-auth, config: { key_names: [api_key] } }]
      - name: by-header
        paths: [/v]
        headers: { x-version: [v2] }
`

const names = (raw: string[]) => raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())

describe('edges: headers with underscores (dropped by default, as nginx)', () => {
  let up: Upstream
  let gw: Node
  let keep: Node
  before(async () => {
    up = await upstream('up')
    gw = await gateway(config(up.url))
    keep = await gateway(config(up.url), {
      limits: { ...DEFAULT_SETTINGS.limits, underscoresInHeaders: true },
    })
  })
  after(async () => {
    await gw.stop()
    await keep.stop()
    await up.close()
  })

  test("X_Consumer_Username never reaches the upstream beside the gateway's X-Consumer-Username", async () => {
    const c = await RawClient.open(gw.proxy.port)
    const r = await c.request(
      get('/auth', 'x.test', 'apikey: alice-key', 'X_Consumer_Username: admin', 'X-Consumer_ID: 1'),
    )
    assert.equal(r.status, 200)
    const seen = up.seen.at(-1)!
    assert.equal(seen.headers['x-consumer-username'], 'alice')
    assert.deepEqual(
      names(seen.rawHeaders).filter((n) => n.includes('_')),
      [],
    )
    assert.equal((await c.request(get('/open', 'x.test'))).status, 200, 'next request, own answer')
    assert.equal(up.seen.at(-1)!.url, '/')
    c.close()
  })

  test('an underscored header is invisible to plugins and the router, not only to the upstream', async () => {
    const c = await RawClient.open(gw.proxy.port)
    const header = await c.request(get('/uk', 'x.test', 'api_key: alice-key'))
    assert.equal(header.status, 401, 'the key in a dropped header is not found')
    const query = await c.request(get('/uk?api_key=alice-key', 'x.test'))
    assert.equal(query.status, 200, 'the same key name in the query still works')
    const routed = await c.request(get('/v', 'x.test', 'X_Version: v2'))
    assert.equal(routed.status, 404, 'a route header condition is not met by X_Version')
    c.close()
  })

  test('PORTICO_UNDERSCORES_IN_HEADERS=on keeps them', async () => {
    const before = up.seen.length
    const c = await RawClient.open(keep.proxy.port)
    assert.equal((await c.request(get('/open', 'x.test', 'X_Custom: 1', 'x-plain: 2'))).status, 200)
    assert.equal(up.seen.length, before + 1)
    assert.equal(up.seen.at(-1)!.headers.x_custom, '1')
    assert.equal(up.seen.at(-1)!.headers['x-plain'], '2')
    assert.equal((await c.request(get('/uk', 'x.test', 'api_key: alice-key'))).status, 200)
    c.close()
    const on = resolveSettings({}, { PORTICO_UNDERSCORES_IN_HEADERS: 'on' }, '/nonexistent')
    const off = resolveSettings({}, {}, '/nonexistent')
    assert.equal(on.node.limits.underscoresInHeaders, true)
    assert.equal(off.node.limits.underscoresInHeaders, false)
    assert.throws(
      () => resolveSettings({}, { PORTICO_UNDERSCORES_IN_HEADERS: 'maybe' }, '/nonexistent'),
      /underscores in headers: expected on or off/,
    )
  })
})

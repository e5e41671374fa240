import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { resolveSettings } from '../../src/cli/settings.js'
import { DEFAULT_SETTINGS } from '../../src/main.js'
import { call, gateway, oneService, type Upstream, upstream } from '../fixtures/helpers.js'

// Kong's latency headers (kong.conf `headers`, `latency_tokens` by default): proxied answers
// carry X-Kong-Upstream-Latency and X-Kong-Proxy-Latency, the gateway's own answers
// X-Kong-Response-Latency; `off` sends none.

const LATENCY = ['x-kong-proxy-latency', 'x-kong-upstream-latency', 'x-kong-response-latency']
const present = (headers: Record<string, unknown>) => LATENCY.filter((h) => headers[h] !== undefined)

describe("Kong's latency headers", () => {
  let up: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  let off: Awaited<ReturnType<typeof gateway>>
  before(async () => {
    up = await upstream('up')
    const config = oneService(
      up.url,
      ['plain'],
      `      - name: ended
        paths: [/ended]
        plugins: [{ name: request-termination, config: { status_code: 403 } }]
`,
    )
    gw = await gateway(config)
    off = await gateway(config, { limits: { ...DEFAULT_SETTINGS.limits, latencyHeaders: 0 } })
  })
  after(async () => {
    await gw?.stop()
    await off?.stop()
    await up?.close()
  })

  test('a proxied answer carries the upstream and proxy latencies in whole milliseconds', async () => {
    const res = await call(`${gw.url}/plain`)
    assert.equal(res.status, 200)
    assert.deepEqual(present(res.headers), ['x-kong-proxy-latency', 'x-kong-upstream-latency'])
    assert.match(String(res.headers['x-kong-proxy-latency']), /^\d+$/)
    assert.match(String(res.headers['x-kong-upstream-latency']), /^\d+$/)
  })

  test("the gateway's own answers (a plugin's reply, no route) carry the response latency", async () => {
    for (const path of ['/ended', '/nowhere']) {
      const res = await call(`${gw.url}${path}`)
      assert.notEqual(res.status, 200)
      assert.deepEqual(present(res.headers), ['x-kong-response-latency'], path)
      assert.match(String(res.headers['x-kong-response-latency']), /^\d+$/)
    }
  })

  test('off sends none', async () => {
    assert.deepEqual(present((await call(`${off.url}/plain`)).headers), [])
    assert.deepEqual(present((await call(`${off.url}/ended`)).headers), [])
  })

  test("the headers setting takes Kong's tokens and refuses what Portico does not send", () => {
    const bits = (value?: string) =>
      resolveSettings({}, value === undefined ? {} : { PORTICO_HEADERS: value }, '/nonexistent').node.limits
        .latencyHeaders
    assert.equal(bits(), 7)
    assert.equal(bits('off'), 0)
    assert.equal(bits('X-Kong-Upstream-Latency, x-kong-proxy-latency'), 3)
    assert.throws(() => bits('server_tokens, latency_tokens'), /'server_tokens' is not sent by Portico/)
  })
})

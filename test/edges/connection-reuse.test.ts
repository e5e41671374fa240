import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { gateway } from '../fixtures/helpers.js'
import { ok, oneRoute, RawClient, type RawUpstream, rawUpstream } from '../fixtures/raw-http.js'

/**
 * After a 400 the gateway decided itself, the connection ends (RFC 9112 §9.6, §11.2): whatever
 * was pipelined behind it, or what an ambiguous framing would make of the following bytes, is
 * never routed. A 404 is an ordinary answer: its connection stays usable.
 */
describe('edges: connection reuse after the gateway refused a request', () => {
  let up: RawUpstream
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    up = await rawUpstream((head, socket) => socket.write(ok(head)))
    gw = await gateway(oneRoute(up.url))
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  const cases: Array<[string, string]> = [
    ['an encoded slash in the path', 'GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a duplicate Host', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['an absolute-form target that disagrees with Host', 'GET http://other/ HTTP/1.1\r\nHost: a\r\n\r\n'],
    [
      'HTTP/1.0 with Transfer-Encoding and keep-alive',
      'POST / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
  ]
  for (const [what, request] of cases) {
    test(`${what}: 400, Connection: close, and the request pipelined behind it never reaches the upstream`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      const before = up.heads.length
      c.send(`${request}GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`)
      const r = await c.response()
      assert.equal(r?.status, 400)
      assert.equal(r?.headers.connection, 'close')
      assert.equal(await c.closesWithin(2000), true)
      assert.equal(c.pending, '')
      assert.equal(up.heads.length, before)
    })
  }

  test('an upgrade pipelined behind a refused request is never routed either', async () => {
    const c = await RawClient.open(gw.proxy.port)
    const before = up.heads.length
    c.send(
      'GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    const r = await c.response()
    assert.equal(r?.status, 400)
    assert.equal(await c.closesWithin(2000), true)
    assert.equal(c.pending, '')
    assert.equal(up.heads.length, before)
  })

  test('after a 404 the same connection carries the next request', async () => {
    const gw404 = await gateway(`_format_version: "3.0"
services:
  - name: edge
    url: ${up.url}
    routes: [{ name: edge, paths: [/known] }]
`)
    const c = await RawClient.open(gw404.proxy.port)
    try {
      c.send('GET /unknown HTTP/1.1\r\nHost: a\r\n\r\nGET /known HTTP/1.1\r\nHost: a\r\n\r\n')
      assert.equal((await c.response())?.status, 404)
      const next = await c.response()
      assert.equal(next?.status, 200)
      assert.equal(next?.body, 'ok GET / HTTP/1.1')
    } finally {
      c.close()
      await gw404.stop()
    }
  })
})

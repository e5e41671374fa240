import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { gateway } from '../fixtures/helpers.js'
import { ok, oneRoute, RawClient, type RawUpstream, rawUpstream } from '../fixtures/raw-http.js'

const WS_HEADERS =
  'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'

/**
 * `Upgrade` (RFC 9110 §7.8): only WebSocket is tunnelled. Any other token is ignored (answered
 * as ordinary HTTP, as Kong's nginx does), the connection then ends, so bytes sent after it are
 * never read unchecked; an upstream that refuses a WebSocket handshake is answered as usual.
 */
describe('edges: upgrades', () => {
  let up: RawUpstream
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    up = await rawUpstream((head, socket) => {
      const upgrade = /\r\nupgrade: *(\S+)/i.exec(head)?.[1]
      // a careless upstream that switches to whatever it is asked for
      if (upgrade !== undefined && upgrade !== 'websocket')
        return void socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`,
        )
      socket.write(ok(head))
    })
    gw = await gateway(oneRoute(up.url))
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  for (const token of ['h2c', 'made-up/1.0']) {
    test(`Upgrade: ${token} is answered as plain HTTP; the request pipelined behind it never reaches the upstream`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      const before = up.heads.length
      c.send(
        `GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: ${token}\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n` +
          'GET /admin/secret HTTP/1.1\r\nHost: a\r\n\r\n',
      )
      const first = await c.response()
      assert.equal(first?.status, 200)
      assert.equal(first?.body, 'ok GET / HTTP/1.1')
      assert.equal(first?.headers.connection, 'close')
      assert.equal(await c.closesWithin(2000), true)
      assert.equal(c.pending, '')
      const seen = up.heads.slice(before)
      assert.equal(seen.length, 1)
      assert.doesNotMatch(seen[0]!, /upgrade|http2-settings/i)
    })
  }

  const refusals: Array<[string, string]> = [
    [
      'an upgrade that carries a body',
      'POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello',
    ],
    ['a WebSocket handshake that is not a GET', `PUT /ws HTTP/1.1\r\nHost: a\r\n${WS_HEADERS}\r\n`],
  ]
  for (const [what, request] of refusals) {
    test(`${what} gets a 400, the connection ends, and nothing reaches the upstream`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      const before = up.heads.length
      c.send(request)
      const r = await c.response()
      assert.equal(r?.status, 400)
      assert.equal(await c.closesWithin(2000), true)
      assert.equal(up.heads.length, before)
    })
  }

  test('an upstream answering a WebSocket handshake with 200: the client gets that 200, then the connection ends', async () => {
    const c = await RawClient.open(gw.proxy.port)
    const before = up.heads.length
    c.send(`GET /ws HTTP/1.1\r\nHost: a\r\n${WS_HEADERS}\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n`)
    const r = await c.response()
    assert.equal(r?.status, 200)
    assert.equal(r?.body, 'ok GET /ws HTTP/1.1')
    assert.equal(await c.closesWithin(2000), true)
    const seen = up.heads.slice(before)
    assert.equal(seen.length, 1)
    assert.match(seen[0]!, /\r\nupgrade: websocket/i)
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { gateway } from '../fixtures/helpers.js'
import { ok, oneRoute, RawClient, type RawUpstream, rawUpstream } from '../fixtures/raw-http.js'

/**
 * Interim (1xx) and impossible status lines from the upstream (RFC 9110 §15.2, RFC 9112 §4):
 * an interim response is never the client's status, the final one is, and the next request on
 * the same client connection gets its own answer.
 */
describe('edges: interim responses and invalid status lines', () => {
  let up: RawUpstream
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    up = await rawUpstream((head, socket) => {
      const path = head.split(' ')[1]!
      if (path === '/hints') socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n')
      if (path === '/processing') socket.write('HTTP/1.1 102 Processing\r\n\r\n')
      if (path === '/many')
        socket.write(
          'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\n',
        )
      // 100 Continue nobody asked for (the gateway never forwards Expect), alone, split across
      // two writes, and between other interim answers
      if (path === '/continue') socket.write('HTTP/1.1 100 Continue\r\n\r\n')
      if (path === '/continue-split') {
        socket.write('HTTP/1.1 10')
        return void setTimeout(() => socket.write(`0 Continue\r\n\r\n${ok(head)}`), 30)
      }
      if (path === '/continue-mixed')
        socket.write(
          'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\nX-Odd: 1\r\n\r\n',
        )
      if (path === '/zero') return void socket.write('HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nno')
      if (path === '/ninety-nine') return void socket.write('HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nno')
      if (path === '/switch')
        return void socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
        )
      socket.write(ok(head))
    })
    gw = await gateway(oneRoute(up.url))
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  for (const path of ['/hints', '/processing', '/many', '/continue', '/continue-split', '/continue-mixed']) {
    test(`interim answers before the final one (${path}): the client gets the final 200, then its next request's own answer`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      try {
        const before = up.heads.length
        c.send(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n`)
        const first = await c.response()
        const second = await c.response()
        assert.equal(first?.status, 200)
        assert.equal(first?.body, `ok GET ${path} HTTP/1.1`)
        assert.equal(second?.status, 200)
        assert.equal(second?.body, 'ok GET /second HTTP/1.1')
        assert.deepEqual(
          up.heads.slice(before).map((h) => h.split('\r\n')[0]),
          [`GET ${path} HTTP/1.1`, 'GET /second HTTP/1.1'],
        )
        assert.equal(c.closed, false)
      } finally {
        c.close()
      }
    })
  }

  test('an unsolicited 100 Continue to a POST with a body (RFC 9110 §15.2: parsed and ignored): the client gets the final 200, then its next answer', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      const before = up.heads.length
      c.send('POST /continue HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello')
      const first = await c.response()
      assert.equal(first?.status, 200)
      assert.equal(first?.body, 'ok POST /continue HTTP/1.1')
      assert.doesNotMatch(first?.raw ?? '', /100 Continue/)
      c.send('GET /next HTTP/1.1\r\nHost: a\r\n\r\n')
      const next = await c.response()
      assert.equal(next?.body, 'ok GET /next HTTP/1.1')
      assert.deepEqual(
        up.heads.slice(before).map((h) => h.split('\r\n')[0]),
        ['POST /continue HTTP/1.1', 'GET /next HTTP/1.1'],
      )
      assert.match(up.heads[before]!, /\r\nContent-Length: 5/i)
      assert.equal(c.pending, '')
    } finally {
      c.close()
    }
  })

  for (const [path, what] of [
    ['/zero', 'status 000'],
    ['/ninety-nine', 'status 099'],
    ['/switch', 'a 101 nobody asked for'],
  ] as const) {
    test(`${what} from the upstream: the client gets a 502 and keeps its connection`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      try {
        const before = up.heads.length
        c.send(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`)
        const first = await c.response()
        assert.equal(first?.status, 502)
        assert.match(first?.body ?? '', /invalid response was received from the upstream/)
        c.send('GET /next HTTP/1.1\r\nHost: a\r\n\r\n')
        const next = await c.response()
        assert.equal(next?.status, 200)
        assert.equal(next?.body, 'ok GET /next HTTP/1.1')
        assert.deepEqual(
          up.heads.slice(before).map((h) => h.split('\r\n')[0]),
          [`GET ${path} HTTP/1.1`, 'GET /next HTTP/1.1'],
        )
      } finally {
        c.close()
      }
    })
  }
})

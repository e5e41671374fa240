import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_SETTINGS } from '../../src/main.js'
import { gateway } from '../fixtures/helpers.js'
import { oneRoute, RawClient, type RawUpstream, rawUpstream } from '../fixtures/raw-http.js'

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the gateway answers the expectation itself (the
 * 100 goes out when the body is about to be read), the upstream never sees the header, and a
 * request refused on its head gets its final status without a 100.
 */
describe('edges: Expect', () => {
  let up: RawUpstream
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    up = await rawUpstream((head, socket, conn) => {
      const n = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
      const start = conn.bytes - conn.after
      // answer once the whole body is in (it is only counted, not parsed)
      const answer = () => {
        const body = `got ${head.split('\r\n')[0]} expect=${/\r\nexpect:/i.test(head) ? 'yes' : 'no'}`
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
      }
      if (n === 0) return answer()
      const check = () => {
        if (conn.bytes - start >= n) {
          socket.off('data', check)
          answer()
        }
      }
      socket.on('data', check)
      check()
    })
    gw = await gateway(oneRoute(up.url), { limits: { ...DEFAULT_SETTINGS.limits, maxBodySize: 1000 } })
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test('100-continue: the client gets 100, sends its body, gets the 200; the upstream saw the body and no Expect', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      const before = up.heads.length
      c.send('POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n')
      const interim = await c.response()
      assert.equal(interim?.status, 100)
      c.send('hello')
      const final = await c.response()
      assert.equal(final?.status, 200)
      assert.equal(final?.body, 'got POST /upload HTTP/1.1 expect=no')
      c.send('GET /next HTTP/1.1\r\nHost: a\r\n\r\n')
      const next = await c.response()
      assert.equal(next?.status, 200)
      assert.equal(next?.body, 'got GET /next HTTP/1.1 expect=no')
      assert.equal(up.heads.length - before, 2)
      assert.equal(up.conns.at(-1)!.bytes > 5, true)
    } finally {
      c.close()
    }
  })

  // node:http answers an unknown expectation itself (417, keep-alive: the body that follows is
  // then read as a request line and refused as malformed, never routed)
  const refusals: Array<[string, string, number]> = [
    [
      '100-continue on a body over the size limit: 413 without a 100',
      'POST /big HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n',
      413,
    ],
    [
      'an expectation other than 100-continue: 417',
      'POST /x HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\nhello',
      417,
    ],
  ]
  for (const [what, request, status] of refusals) {
    test(`${what}, and the upstream is never called`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      try {
        const before = up.heads.length
        c.send(request)
        const r = await c.response()
        assert.equal(r?.status, status)
        if (status === 413) assert.equal(r?.headers.connection, 'close')
        assert.equal(up.heads.length, before)
      } finally {
        c.close()
      }
    })
  }
})

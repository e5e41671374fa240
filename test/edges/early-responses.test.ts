import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_SETTINGS } from '../../src/main.js'
import { gateway } from '../fixtures/helpers.js'
import { ok, oneRoute, RawClient, type RawUpstream, rawUpstream } from '../fixtures/raw-http.js'

const MB = 1024 * 1024

/**
 * Answers that come before the request body is all in: an upstream's early 413 and the
 * gateway's own. The client gets the status and a connection that ends (never one that hangs),
 * and the gateway keeps reading for a while after its answer (lingering close) so a client still
 * uploading sees the 413 instead of a reset.
 */
describe('edges: early responses', () => {
  let up: RawUpstream
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    up = await rawUpstream((head, socket) => {
      if (head.startsWith('POST /early'))
        return void socket.end(
          'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!',
        )
      socket.write(ok(head))
    })
    gw = await gateway(oneRoute(up.url), { limits: { ...DEFAULT_SETTINGS.limits, maxBodySize: 64 * 1024 } })
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  /** writes `total` bytes of body in 64 KiB pieces, stopping quietly when the connection goes */
  function upload(c: RawClient, total: number): void {
    let sent = 0
    const piece = Buffer.alloc(64 * 1024, 'x')
    const more = (): void => {
      while (sent < total && !c.closed && !c.socket.destroyed) {
        sent += piece.length
        if (!c.socket.write(piece)) return void c.socket.once('drain', more)
      }
    }
    more()
  }

  test("an upstream's early 413 on a 1 MB upload streamed (request_buffering: false): the client gets the 413, then the connection ends", async () => {
    const gw2 = await gateway(
      oneRoute(up.url).replace(
        '[{ name: edge, paths: [/] }]',
        '[{ name: edge, paths: [/], request_buffering: false }]',
      ),
    )
    const c = await RawClient.open(gw2.proxy.port)
    try {
      const before = up.heads.length
      c.send(`POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: ${MB}\r\n\r\n`)
      upload(c, MB)
      const r = await c.response(5000)
      assert.equal(r?.status, 413)
      assert.equal(r?.body, 'too big!')
      assert.equal(r?.headers.connection, 'close')
      assert.equal(await c.closesWithin(8000), true)
      assert.equal(up.heads.length - before, 1)
      // the gateway still serves the same client on a new connection
      const c2 = await RawClient.open(gw2.proxy.port)
      c2.send('GET /again HTTP/1.1\r\nHost: a\r\n\r\n')
      assert.equal((await c2.response())?.body, 'ok GET /again HTTP/1.1')
      c2.close()
    } finally {
      c.close()
      await gw2.stop()
    }
  })

  test("an upstream's early 413 on a 1 MB upload buffered (the default): the client gets the 413 and its connection carries the next request", async () => {
    const gw2 = await gateway(oneRoute(up.url))
    const c = await RawClient.open(gw2.proxy.port)
    try {
      const before = up.heads.length
      c.send(`POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: ${MB}\r\n\r\n`)
      upload(c, MB)
      const r = await c.response(5000)
      assert.equal(r?.status, 413)
      assert.equal(r?.body, 'too big!')
      // the whole body was read before the upstream was called: nothing is left unread
      c.send('GET /again HTTP/1.1\r\nHost: a\r\n\r\n')
      assert.equal((await c.response())?.body, 'ok GET /again HTTP/1.1')
      assert.deepEqual(
        up.heads.slice(before).map((h) => h.split('\r\n')[0]),
        ['POST /early HTTP/1.1', 'GET /again HTTP/1.1'],
      )
    } finally {
      c.close()
      await gw2.stop()
    }
  })

  for (const framing of ['content-length', 'chunked'] as const) {
    test(`the gateway's own 413 (${framing}) reaches a client still uploading: no reset, then the connection ends`, async () => {
      const c = await RawClient.open(gw.proxy.port)
      let reset = false
      c.socket.on('error', () => {
        reset = true
      })
      try {
        const before = up.heads.length
        if (framing === 'content-length') {
          c.send(`POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${MB}\r\n\r\n`)
          upload(c, MB)
        } else {
          c.send('POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')
          const chunk = Buffer.concat([
            Buffer.from('10000\r\n'),
            Buffer.alloc(0x10000, 'y'),
            Buffer.from('\r\n'),
          ])
          for (let i = 0; i < 4; i++) c.send(chunk)
        }
        const r = await c.response(5000)
        assert.equal(r?.status, 413)
        assert.equal(r?.headers.connection, 'close')
        assert.equal(await c.closesWithin(8000), true)
        assert.equal(reset, false)
        if (framing === 'content-length') assert.equal(up.heads.length, before)
      } finally {
        c.close()
      }
    })
  }
})

import assert from 'node:assert/strict'
import type net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { gateway } from '../fixtures/helpers.js'
import { ok, oneRoute, RawClient, type RawUpstream, rawUpstream } from '../fixtures/raw-http.js'

/**
 * Requests that hold an upstream's connections (slow uploads, slow answers): the connections
 * per upstream and the requests waiting for one are capped, and one more is answered 503 at
 * once instead of waiting in an unbounded queue; the connection that got the 503 carries the
 * next request once the upstream has room.
 */
describe('edges: slow clients and the per-upstream caps', () => {
  let up: RawUpstream
  let gw: Awaited<ReturnType<typeof gateway>>
  const held: Array<{ head: string; socket: net.Socket }> = []

  before(async () => {
    up = await rawUpstream((head, socket) => {
      if (head.startsWith('GET /hold')) held.push({ head, socket })
      else socket.write(ok(head))
    })
    gw = await gateway(oneRoute(up.url), { upstreamPool: { connections: 2, queue: 1 } })
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test('2 connections busy and 1 request waiting: the next one gets 503 at once, and its connection serves the next request', async () => {
    const holders = await Promise.all([0, 1, 2].map(() => RawClient.open(gw.proxy.port)))
    const c = await RawClient.open(gw.proxy.port)
    try {
      for (const [i, h] of holders.entries()) h.send(`GET /hold/${i} HTTP/1.1\r\nHost: a\r\n\r\n`)
      for (let i = 0; i < 200 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
      assert.equal(held.length, 2, 'two connections taken')
      c.send('GET /busy HTTP/1.1\r\nHost: a\r\n\r\n')
      const busy = await c.response()
      assert.equal(busy?.status, 503)
      assert.match(busy?.body ?? '', /too many requests waiting for a connection/)
      assert.equal(
        up.heads.some((h) => h.startsWith('GET /busy')),
        false,
      )
      // the upstream answers the two it holds; the waiting one then gets a connection
      for (const h of held.splice(0)) h.socket.write(ok(h.head))
      for (let i = 0; i < 200 && held.length < 1; i++) await new Promise((r) => setTimeout(r, 10))
      for (const h of held.splice(0)) h.socket.write(ok(h.head))
      const answers = await Promise.all(holders.map((h) => h.response()))
      assert.deepEqual(
        answers.map((a) => a?.status),
        [200, 200, 200],
      )
      c.send('GET /after HTTP/1.1\r\nHost: a\r\n\r\n')
      const next = await c.response()
      assert.equal(next?.status, 200)
      assert.equal(next?.body, 'ok GET /after HTTP/1.1')
    } finally {
      for (const h of holders) h.close()
      c.close()
    }
  })
})

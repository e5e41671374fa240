import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { request } from 'undici'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

describe('retries and cancellation', () => {
  let good: Upstream
  let resetting: Upstream
  let slow: http.Server
  let slowPort = 0
  let slowClosedEarly = 0
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    good = await upstream('good')
    // reads the request, then drops the connection without answering
    resetting = await upstream('resetting', (req) => req.socket.destroy())
    slow = http.createServer((_req, res) => {
      const timer = setTimeout(() => res.end('late'), 3000)
      res.on('close', () => {
        if (!res.writableFinished) {
          slowClosedEarly++
          clearTimeout(timer)
        }
      })
    })
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r))
    slowPort = (slow.address() as net.AddressInfo).port
    const dead = await closedPort()
    gw = await gateway(`
_format_version: "3.0"
services:
  - name: failover
    host: failover.up
    retries: 1
    routes: [{ name: failover, paths: [/failover] }]
  - name: reset
    url: ${resetting.url}
    retries: 3
    routes: [{ name: reset, paths: [/reset] }]
  - name: slow
    url: http://127.0.0.1:${slowPort}
    routes: [{ name: slow, paths: [/slow] }]
upstreams:
  - name: failover.up
    targets:
      - { target: "127.0.0.1:${dead}" }
      - { target: "127.0.0.1:${good.port}" }
`)
  })
  after(async () => {
    await gw.stop()
    slow.closeAllConnections()
    slow.close()
    await Promise.all([good.close(), resetting.close()])
  })

  test('a refused target is retried on the other one: every request succeeds', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await call(`${gw.url}/failover`)
      assert.equal(r.status, 200)
    }
    assert.equal(good.seen.length, 20)
  })

  test('a POST with a streamed body that reached the upstream is never replayed', async () => {
    const before = resetting.seen.length
    const r = await call(`${gw.url}/reset`, { method: 'POST', body: 'once' })
    assert.equal(r.status, 502)
    assert.equal(resetting.seen.length - before, 1, 'sent once, not retried')
  })

  test('an idempotent GET without body is retried after a reset (retries + 1 attempts)', async () => {
    const before = resetting.seen.length
    const r = await call(`${gw.url}/reset`)
    assert.equal(r.status, 502)
    assert.equal(resetting.seen.length - before, 4)
  })

  test('a client that aborts cancels its upstream request', async () => {
    const ac = new AbortController()
    const pending = request(`${gw.url}/slow`, { signal: ac.signal }).catch(() => null)
    await sleep(200)
    ac.abort()
    await pending
    for (let i = 0; i < 40 && slowClosedEarly === 0; i++) await sleep(50)
    assert.equal(slowClosedEarly, 1, 'the upstream saw its request cancelled')
  })
})

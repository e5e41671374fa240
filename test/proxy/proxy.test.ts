import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { call, gateway, raw, type Upstream, upstream } from '../fixtures/helpers.js'

describe('proxying', () => {
  let a: Upstream
  let b: Upstream
  let slow: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  let refusedPort: number

  before(async () => {
    a = await upstream('a')
    b = await upstream('b')
    slow = await upstream('slow', (_req, res) => {
      setTimeout(() => res.end('late'), 800)
    })
    // a port nobody listens on: bind, read the port, close
    const s = net.createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    refusedPort = (s.address() as net.AddressInfo).port
    await new Promise<void>((r) => s.close(() => r()))
    gw = await gateway(`
_format_version: "3.0"
services:
  - name: a
    url: ${a.url}/base
    routes:
      - { name: strip, paths: [/strip] }
      - { name: keep, paths: [/keep], strip_path: false }
      - { name: host, hosts: [api.example.com], paths: [/h], preserve_host: true }
      - { name: plain-host, hosts: [other.example.com], paths: [/h] }
  - name: b
    url: ${b.url}
    routes:
      - { name: b, paths: [/b] }
      - { name: wild, hosts: ["*.example.com"], paths: [/h] }
  - name: slow
    url: ${slow.url}
    read_timeout: 200
    retries: 0
    routes:
      - { name: slow, paths: [/slow] }
  - name: refused
    url: http://127.0.0.1:${refusedPort}
    retries: 2
    routes:
      - { name: refused, paths: [/refused] }
`)
  })
  after(async () => {
    await gw.stop()
    await Promise.all([a.close(), b.close(), slow.close()])
  })

  test('strip_path removes the matched prefix and joins the service path', async () => {
    const r = await call(`${gw.url}/strip/x/y?q=1`)
    assert.equal(r.status, 200)
    assert.equal(a.seen.at(-1)!.url, '/base/x/y?q=1')
    await call(`${gw.url}/keep/z`)
    assert.equal(a.seen.at(-1)!.url, '/base/keep/z')
  })

  test('paths are normalised once and the upstream gets the normalised path', async () => {
    const r = await call(`${gw.url}/b//x/./y/../z`)
    assert.equal(r.status, 200)
    assert.equal(b.seen.at(-1)!.url, '/x/z')
  })

  test('preserve_host sends the client Host; otherwise the target host', async () => {
    await call(`${gw.url}/h`, { headers: { host: 'api.example.com' } })
    assert.equal(a.seen.at(-1)!.headers.host, 'api.example.com')
    await call(`${gw.url}/h`, { headers: { host: 'other.example.com' } })
    assert.equal(a.seen.at(-1)!.headers.host, `127.0.0.1:${a.port}`)
  })

  test('a plain host beats a wildcard host; the wildcard catches the rest', async () => {
    const r1 = await call(`${gw.url}/h`, { headers: { host: 'api.example.com' } })
    assert.equal((r1.json() as { name: string }).name, 'a')
    const r2 = await call(`${gw.url}/h`, { headers: { host: 'x.example.com' } })
    assert.equal((r2.json() as { name: string }).name, 'b')
  })

  test('no route → 404 with Kong’s message and a request id', async () => {
    const r = await call(`${gw.url}/nothing-here`)
    assert.equal(r.status, 404)
    const body = r.json() as { message: string; request_id: string }
    assert.equal(body.message, 'no Route matched with those values')
    assert.equal(body.request_id, r.headers['x-request-id'])
  })

  test('forwarded headers, X-Real-IP and a request id reach the upstream', async () => {
    await call(`${gw.url}/b/fwd`, {
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'evil' },
    })
    const h = b.seen.at(-1)!.headers
    assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1')
    assert.equal(h['x-forwarded-proto'], 'http')
    assert.equal(h['x-forwarded-host'], '127.0.0.1', 'an untrusted peer cannot set X-Forwarded-Host')
    assert.equal(h['x-forwarded-port'], String(gw.proxy.port))
    assert.equal(h['x-forwarded-path'], '/b/fwd')
    assert.equal(h['x-real-ip'], '127.0.0.1')
    assert.match(String(h['x-request-id']), /^[0-9a-f]{32}$/, "nginx's $request_id form, as Kong sends it")
  })

  test('hop-by-hop headers and those named in Connection are removed', async () => {
    const out = await raw(
      gw.proxy.port,
      'GET /b/hop HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n' +
        'Proxy-Authorization: Basic eA==\r\nTE: trailers\r\nX-Kept: yes\r\n\r\n',
      500,
    )
    assert.match(out, /^HTTP\/1.1 200/)
    const h = b.seen.at(-1)!.headers
    assert.equal(h['x-secret'], undefined)
    assert.equal(h['keep-alive'], undefined)
    assert.equal(h['proxy-authorization'], undefined)
    assert.equal(h.te, undefined)
    assert.equal(h['x-kept'], 'yes')
  })

  test('a read timeout answers 504', async () => {
    const r = await call(`${gw.url}/slow`)
    assert.equal(r.status, 504)
    assert.equal((r.json() as { message: string }).message, 'The upstream server is timing out')
  })

  test('a refused connection answers 502 after the retries', async () => {
    const r = await call(`${gw.url}/refused`)
    assert.equal(r.status, 502)
    assert.ok((r.json() as { request_id?: string }).request_id)
  })

  test('request and response bodies pass through', async () => {
    const payload = Buffer.alloc(256 * 1024, 7)
    const r = await call(`${gw.url}/b/upload`, { method: 'POST', body: payload })
    assert.equal(r.status, 200)
    assert.equal(b.seen.at(-1)!.body.length, payload.length)
    assert.equal(b.seen.at(-1)!.method, 'POST')
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ERRORS } from '../../src/core/errors.js'
import { call, gateway, oneService, raw, type Upstream, upstream } from '../fixtures/helpers.js'
import { stack } from '../fixtures/stack.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('correlation-id', () => {
  const s = stack({
    start: (up) =>
      gateway(
        oneService(
          up.url,
          ['default', 'echo', 'uuid', 'tracker', 'reqid', 'terminated'],
          `plugins:
  - name: correlation-id
    route: default
  - name: correlation-id
    route: echo
    config: { header_name: X-Correlation-ID, generator: uuid, echo_downstream: true }
  - name: correlation-id
    route: uuid
    config: { generator: uuid }
  - name: correlation-id
    route: tracker
    config: { generator: tracker, echo_downstream: true }
  - name: correlation-id
    route: reqid
    config: { header_name: X-Request-ID, echo_downstream: true }
  - name: correlation-id
    route: terminated
    config: { echo_downstream: true }
  - name: request-termination
    route: terminated
    config: { status_code: 403, message: closed }
`,
        ),
      ),
  })

  test('uuid#counter by default: one process uuid, a growing counter, sent upstream only', async () => {
    const r1 = await call(`${s.gw.url}/default`)
    const id1 = s.up.seen.at(-1)!.headers['kong-request-id'] as string
    await call(`${s.gw.url}/default`)
    const id2 = s.up.seen.at(-1)!.headers['kong-request-id'] as string
    assert.equal(r1.status, 200)
    const [u1, n1] = id1.split('#')
    const [u2, n2] = id2.split('#')
    assert.match(u1!, UUID)
    assert.equal(u1, u2)
    assert.equal(Number(n2), Number(n1) + 1)
    assert.equal(r1.headers['kong-request-id'], undefined, 'no echo by default')
  })

  test('an incoming id is kept; echo_downstream sends it back', async () => {
    const r = await call(`${s.gw.url}/echo`, { headers: { 'x-correlation-id': 'abc-123' } })
    assert.equal(s.up.seen.at(-1)!.headers['x-correlation-id'], 'abc-123')
    assert.equal(r.headers['x-correlation-id'], 'abc-123')
    const r2 = await call(`${s.gw.url}/echo`)
    const generated = s.up.seen.at(-1)!.headers['x-correlation-id'] as string
    assert.match(generated, UUID)
    assert.equal(r2.headers['x-correlation-id'], generated)
  })

  test('an empty incoming id is replaced', async () => {
    await call(`${s.gw.url}/uuid`, { headers: { 'kong-request-id': '' } })
    assert.match(s.up.seen.at(-1)!.headers['kong-request-id'] as string, UUID)
  })

  test('tracker: server address, port, pid, connection serial, request count, time', async () => {
    const r = await call(`${s.gw.url}/tracker`)
    const id = r.headers['kong-request-id'] as string
    assert.equal(s.up.seen.at(-1)!.headers['kong-request-id'], id)
    const m = /^127\.0\.0\.1-(\d+)-(\d+)-(\d+)-(\d+)-\d+\.\d{3}$/.exec(id)
    assert.ok(m, id)
    assert.equal(Number(m[1]), s.gw.proxy.port)
    assert.equal(Number(m[2]), process.pid)
  })

  test('on X-Request-ID the correlation id is the request id, upstream and downstream', async () => {
    const r = await call(`${s.gw.url}/reqid`, { headers: { 'x-request-id': 'client-id-1' } })
    assert.equal(s.up.seen.at(-1)!.headers['x-request-id'], 'client-id-1')
    assert.equal(r.headers['x-request-id'], 'client-id-1')
    const r2 = await call(`${s.gw.url}/reqid`)
    const id = r2.headers['x-request-id'] as string
    assert.match(id, /^[0-9a-f-]{36}#\d+$/)
    assert.equal(s.up.seen.at(-1)!.headers['x-request-id'], id)
  })

  test('the echo is on plugin replies too', async () => {
    const r = await call(`${s.gw.url}/terminated`, { headers: { 'kong-request-id': 'from-client' } })
    assert.equal(r.status, 403)
    assert.equal(r.headers['kong-request-id'], 'from-client')
  })
})

describe('request-termination', () => {
  const s = stack({
    start: (up) =>
      gateway(`
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - { name: default, paths: [/default] }
      - { name: message, paths: [/message] }
      - { name: raw, paths: [/raw] }
      - { name: nobody, paths: [/nobody] }
      - { name: trigger, paths: [/trigger] }
      - { name: echo, paths: [/echo] }
routes:
  - { name: orphan, paths: [/orphan] }
  - { name: orphan-echo, paths: [/orphan-echo] }
  - { name: unserved, paths: [/unserved] }
plugins:
  - { name: request-termination, route: default }
  - name: request-termination
    route: orphan
    config: { status_code: 200, message: "maintenance" }
  - name: request-termination
    route: orphan-echo
    config: { status_code: 200, echo: true }
  - name: request-termination
    route: message
    config: { status_code: 403, message: "So long and thanks for all the fish!" }
  - name: request-termination
    route: raw
    config: { status_code: 418, body: "<h1>teapot</h1>", content_type: "text/html; charset=utf-8" }
  - name: request-termination
    route: nobody
    config: { status_code: 204 }
  - name: request-termination
    route: trigger
    config: { status_code: 410, trigger: X-Kill-Switch }
  - name: request-termination
    route: echo
    config: { status_code: 200, echo: true }
`),
  })

  test("defaults: 503 with Kong's message, the upstream never called", async () => {
    const before = s.up.seen.length
    const r = await call(`${s.gw.url}/default`)
    assert.equal(r.status, 503)
    assert.deepEqual(r.json(), { message: 'Service unavailable' })
    assert.match(r.headers['content-type'] as string, /^application\/json/)
    assert.equal(s.up.seen.length, before)
  })

  test('status and message', async () => {
    const r = await call(`${s.gw.url}/message`)
    assert.equal(r.status, 403)
    assert.deepEqual(r.json(), { message: 'So long and thanks for all the fish!' })
  })

  test('a raw body with its content type', async () => {
    const r = await call(`${s.gw.url}/raw`)
    assert.equal(r.status, 418)
    assert.equal(r.text, '<h1>teapot</h1>')
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8')
  })

  test('a status Kong has no message for gets no body', async () => {
    const r = await call(`${s.gw.url}/nobody`)
    assert.equal(r.status, 204)
    assert.equal(r.text, '')
    assert.equal(r.headers['content-length'], undefined, 'a 204 has no Content-Length, as nginx sends it')
  })

  test('a route without a service: request-termination answers (as in Kong), otherwise 503 NO_SERVICE', async () => {
    const r = await call(`${s.gw.url}/orphan`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.json(), { message: 'maintenance' }, 'kong.response.exit: no request_id')
    const echo = (await call(`${s.gw.url}/orphan-echo`)).json() as Record<string, unknown>
    assert.equal((echo.matched_route as { name: string }).name, 'orphan-echo')
    assert.ok(!('matched_service' in echo), "no service: the field is absent, as Lua's nil")
    const unserved = await call(`${s.gw.url}/unserved`)
    assert.equal(unserved.status, ERRORS.NO_SERVICE.status)
    assert.equal((unserved.json() as { message: string }).message, ERRORS.NO_SERVICE.message)
  })

  test('trigger: only requests with the header or query argument are terminated', async () => {
    const before = s.up.seen.length
    const passed = await call(`${s.gw.url}/trigger`)
    assert.equal(passed.status, 200)
    assert.equal(s.up.seen.length, before + 1)
    const byHeader = await call(`${s.gw.url}/trigger`, { headers: { 'x-kill-switch': '1' } })
    assert.equal(byHeader.status, 410)
    assert.equal(byHeader.text, '')
    const byQuery = await call(`${s.gw.url}/trigger?X-Kill-Switch`)
    assert.equal(byQuery.status, 410)
    assert.equal(s.up.seen.length, before + 1)
  })

  test('echo: a JSON copy of the request, body parsed, route and service', async () => {
    const r = await call(`${s.gw.url}/echo/x?a=1&a=2&flag`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      body: '{"hello":"world"}',
    })
    assert.equal(r.status, 200)
    type Echo = {
      message?: string
      kong: { worker_pid: number }
      request: Record<string, unknown> & { headers: Record<string, string> }
      matched_route: { name: string }
      matched_service: { name: string }
    }
    const doc = r.json() as Echo
    assert.equal(doc.request.method, 'POST')
    assert.equal(doc.request.path, '/echo/x')
    assert.equal(doc.request.scheme, 'http')
    assert.equal(doc.request.host, '127.0.0.1')
    assert.equal(doc.request.port, s.gw.proxy.port)
    assert.equal(doc.request.headers['x-test'], 'yes')
    assert.deepEqual(doc.request.query, { a: ['1', '2'], flag: true })
    assert.deepEqual(doc.request.body, { hello: 'world' })
    assert.equal(doc.request.raw_body, '{"hello":"world"}')
    assert.deepEqual(doc.request.uri_captures, { unnamed: [], named: {} })
    assert.equal(doc.matched_route.name, 'echo')
    assert.equal(doc.matched_service.name, 's')
    assert.equal(doc.kong.worker_pid, process.pid)
    assert.equal(doc.message, undefined)
  })
})

describe('ip-restriction', () => {
  let up: Upstream
  let direct: Awaited<ReturnType<typeof gateway>>
  let proxied: Awaited<ReturnType<typeof gateway>>
  const config = (upUrl: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${upUrl}
    routes:
      - { name: deny-local, paths: [/deny-local] }
      - { name: allow-ten, paths: [/allow-ten] }
      - { name: deny-doc, paths: [/deny-doc] }
      - { name: allow-local, paths: [/allow-local] }
      - { name: custom, paths: [/custom] }
plugins:
  - { name: ip-restriction, route: deny-local, config: { deny: [127.0.0.0/8] } }
  - { name: ip-restriction, route: allow-ten, config: { allow: [10.0.0.0/8] } }
  - { name: ip-restriction, route: deny-doc, config: { deny: [203.0.113.0/24, "2001:db8::/32"] } }
  - { name: ip-restriction, route: allow-local, config: { allow: [127.0.0.1, "::1"], deny: [10.9.9.9] } }
  - name: ip-restriction
    route: custom
    config: { deny: [127.0.0.1], status: 401, message: "Go away" }
`

  before(async () => {
    up = await upstream('up')
    direct = await gateway(config(up.url))
    proxied = await gateway(config(up.url), { trustedIps: '127.0.0.1' })
  })
  after(async () => {
    await direct.stop()
    await proxied.stop()
    await up.close()
  })

  test('a denied address gets 403 with the address in the message', async () => {
    const r = await call(`${direct.url}/deny-local`)
    assert.equal(r.status, 403)
    assert.equal((r.json() as { message: string }).message, 'IP address not allowed: 127.0.0.1')
  })

  test('a client outside the allow list is refused; inside it passes', async () => {
    assert.equal((await call(`${direct.url}/allow-ten`)).status, 403)
    assert.equal((await call(`${direct.url}/allow-local`)).status, 200)
  })

  test('a spoofed X-Forwarded-For from an untrusted peer changes nothing', async () => {
    const denied = await call(`${direct.url}/deny-local`, { headers: { 'x-forwarded-for': '10.1.2.3' } })
    assert.equal(denied.status, 403)
    const notAllowed = await call(`${direct.url}/allow-ten`, { headers: { 'x-forwarded-for': '10.1.2.3' } })
    assert.equal(notAllowed.status, 403)
    assert.equal((notAllowed.json() as { message: string }).message, 'IP address not allowed: 127.0.0.1')
  })

  test('through a trusted proxy the X-Forwarded-For client is checked (IPv4 and IPv6)', async () => {
    const before = up.seen.length
    assert.equal(
      (await call(`${proxied.url}/allow-ten`, { headers: { 'x-forwarded-for': '10.1.2.3' } })).status,
      200,
    )
    assert.equal(up.seen.length, before + 1)
    // the proxy itself is not the client any more
    assert.equal(
      (await call(`${proxied.url}/deny-local`, { headers: { 'x-forwarded-for': '198.51.100.4' } })).status,
      200,
    )
    const v4 = await call(`${proxied.url}/deny-doc`, { headers: { 'x-forwarded-for': '203.0.113.77' } })
    assert.equal(v4.status, 403)
    assert.equal((v4.json() as { message: string }).message, 'IP address not allowed: 203.0.113.77')
    const v6 = await call(`${proxied.url}/deny-doc`, { headers: { 'x-forwarded-for': '2001:db8::5' } })
    assert.equal(v6.status, 403)
    assert.equal(
      (await call(`${proxied.url}/deny-doc`, { headers: { 'x-forwarded-for': '2001:db9::5' } })).status,
      200,
    )
    assert.equal(
      (await call(`${proxied.url}/allow-local`, { headers: { 'x-forwarded-for': '10.9.9.9' } })).status,
      403,
    )
    assert.equal(
      (await call(`${proxied.url}/allow-local`, { headers: { 'x-forwarded-for': '::1' } })).status,
      200,
    )
  })

  test('status and message are configurable', async () => {
    const r = await call(`${direct.url}/custom`)
    assert.equal(r.status, 401)
    const body = r.json() as { message: string; request_id: string }
    assert.equal(body.message, 'Go away')
    assert.equal(body.request_id, r.headers['x-request-id'])
  })
})

describe('request-size-limiting', () => {
  const s = stack({
    start: (up) =>
      gateway(
        oneService(
          up.url,
          ['small', 'mb', 'strict'],
          `plugins:
  - name: request-size-limiting
    route: small
    config: { allowed_payload_size: 10, size_unit: bytes }
  - { name: request-size-limiting, route: mb, config: { allowed_payload_size: 1 } }
  - name: request-size-limiting
    route: strict
    config: { allowed_payload_size: 1, size_unit: kilobytes, require_content_length: true }
`,
        ),
      ),
  })

  test('a Content-Length over the limit is refused with 413 before the body is read', async () => {
    const before = s.up.seen.length
    // the headers promise 1000 bytes but only 5 are sent: the answer cannot wait for the body
    const out = await raw(
      s.gw.proxy.port,
      'POST /small HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nhello',
    )
    assert.match(out, /^HTTP\/1\.1 413 /)
    assert.match(out, /\r\nconnection: close\r\n/i)
    const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { message: string }
    assert.equal(body.message, 'Request size limit exceeded')
    assert.equal(s.up.seen.length, before)
  })

  test('at the limit the body goes through', async () => {
    const r = await call(`${s.gw.url}/small`, { method: 'POST', body: '0123456789' })
    assert.equal(r.status, 200)
    assert.equal(s.up.seen.at(-1)!.body.toString(), '0123456789')
  })

  test('Expect: 100-continue over the limit gets 417', async () => {
    const out = await raw(
      s.gw.proxy.port,
      'POST /small HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n',
    )
    assert.match(out, /HTTP\/1\.1 417 /)
    assert.match(out, /"message":"Request size limit exceeded"/)
  })

  test('a chunked body is cut with 413 as soon as it passes the limit', async () => {
    const before = s.up.seen.length
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`
    const out = await raw(
      s.gw.proxy.port,
      `POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('01234')}${chunk('56789')}${chunk('abc')}0\r\n\r\n`,
    )
    assert.match(out, /^HTTP\/1\.1 413 /)
    assert.match(out, /"message":"Request size limit exceeded"/)
    assert.equal(s.up.seen.length, before, 'the upstream never got a complete request')
  })

  test('a chunked body within the limit is streamed', async () => {
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`
    const out = await raw(
      s.gw.proxy.port,
      `POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk('01234')}${chunk('5678')}0\r\n\r\n`,
    )
    assert.match(out, /^HTTP\/1\.1 200 /)
    assert.equal(s.up.seen.at(-1)!.body.toString(), '012345678')
  })

  test('megabytes by default: 1 MB passes, 1 MB + 1 byte does not', async () => {
    assert.equal(
      (await call(`${s.gw.url}/mb`, { method: 'POST', body: Buffer.alloc(1024 * 1024) })).status,
      200,
    )
    const r = await call(`${s.gw.url}/mb`, { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1) })
    assert.equal(r.status, 413)
    assert.equal((r.json() as { message: string }).message, 'Request size limit exceeded')
  })

  test('require_content_length: no length and no chunked body is 411', async () => {
    const r = await call(`${s.gw.url}/strict`)
    assert.equal(r.status, 411)
    assert.equal((r.json() as { message: string }).message, 'A valid Content-Length header is required')
    assert.equal((await call(`${s.gw.url}/strict`, { method: 'POST', body: 'x' })).status, 200)
  })
})

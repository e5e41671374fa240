import assert from 'node:assert/strict'
import http2 from 'node:http2'
import { after, before, describe, test } from 'node:test'
import { type Pem, Pki } from '../fixtures/certs.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

// HTTP/2 by ALPN on a TLS listener and by prior knowledge on a plain `http2` one, through the
// same pipeline and plugins as HTTP/1.1; the upstream still gets HTTP/1.1; rapid reset cut off.

type H2Answer = { status: number; headers: http2.IncomingHttpHeaders; body: string }

function h2get(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string> = {},
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ...headers })
    let body = ''
    let head: http2.IncomingHttpHeaders = {}
    req.setEncoding('utf8')
    req.on('response', (h) => {
      head = h
    })
    req.on('data', (d: string) => {
      body += d
    })
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body }))
    req.on('error', reject)
    req.end()
  })
}

const config = (url: string, slowUrl: string) => `
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: s
    url: ${url}
    routes:
      - name: keyed
        paths: [/keyed]
        plugins: [{ name: key-auth }]
      - name: limited
        paths: [/limited]
        plugins: [{ name: rate-limiting, config: { minute: 3, policy: local, limit_by: ip } }]
      - name: cached
        paths: [/cached]
        plugins: [{ name: proxy-cache, config: { strategy: memory, content_type: ["application/json"] } }]
      - name: open
        paths: [/open]
  - name: slow
    url: ${slowUrl}
    routes: [{ name: slow, paths: [/slow] }]
`

describe('HTTP/2 at the edge', () => {
  let pki: Pki
  let server: Pem
  let up: Upstream
  let slow: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  let tlsPort: number
  let h2cPort: number

  before(async () => {
    pki = await Pki.create()
    server = await pki.leaf('edge.test')
    up = await upstream('h2-up')
    // answers after 500 ms: a stream the client resets is still waiting for it
    slow = await upstream('slow', (_req, res) => {
      setTimeout(() => res.writableEnded || res.end('late'), 500)
    })
    gw = await gateway(config(up.url, slow.url), {
      proxyListen: [
        { host: '127.0.0.1', port: 0, ssl: false, http2: false },
        { host: '127.0.0.1', port: 0, ssl: true, http2: true },
        { host: '127.0.0.1', port: 0, ssl: false, http2: true },
      ],
      ssl: {
        cert: server.cert,
        key: server.key,
        ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
      },
      h2: {
        maxConcurrentStreams: 64,
        initialWindowSize: 65535,
        maxSessionMemory: 10,
        resetBurst: 50,
        resetRate: 10,
      },
    })
    tlsPort = gw.listeners[1]!.port
    h2cPort = gw.listeners[2]!.port
  })
  after(async () => {
    await gw.stop()
    await up.close()
    await slow.close()
    pki.close()
  })

  const tlsSession = () =>
    http2.connect(`https://127.0.0.1:${tlsPort}`, { ca: pki.ca.cert, servername: 'edge.test' })

  test('key-auth over h2 (TLS): 401 without a key, 200 with one; upstream gets HTTP/1.1 with X-Forwarded-*', async () => {
    const s = tlsSession()
    try {
      const no = await h2get(s, '/keyed')
      assert.equal(no.status, 401)
      assert.equal(JSON.parse(no.body).message, 'No API key found in request')
      const yes = await h2get(s, '/keyed/x', { apikey: 'alice-key' })
      assert.equal(yes.status, 200, yes.body)
      assert.ok(yes.headers['x-request-id'])
      const seen = up.seen.at(-1)!
      assert.equal(seen.url, '/x')
      assert.equal(seen.headers['x-consumer-username'], 'alice')
      assert.equal(seen.headers['x-forwarded-proto'], 'https')
      assert.equal(seen.headers['x-forwarded-port'], String(tlsPort))
      assert.equal(seen.headers.host, `127.0.0.1:${up.port}`)
      assert.ok(!seen.rawHeaders.some((h) => h.startsWith(':')), 'no pseudo-header upstream')
    } finally {
      s.close()
    }
  })

  test('a request body over h2 without Content-Length reaches the upstream whole', async () => {
    const s = tlsSession()
    try {
      const answer = await new Promise<number>((resolve, reject) => {
        const req = s.request({ ':path': '/open/post', ':method': 'POST', 'content-type': 'text/plain' })
        req.on('response', (h) => resolve(Number(h[':status'])))
        req.on('error', reject)
        req.resume()
        req.write('hello ')
        req.end('over h2')
      })
      assert.equal(answer, 200)
      await new Promise((r) => setTimeout(r, 50))
      const seen = up.seen.at(-1)!
      assert.equal(seen.method, 'POST')
      assert.equal(seen.body.toString(), 'hello over h2')
    } finally {
      s.close()
    }
  })

  test('rate-limiting over h2: three pass, the fourth is 429 with the headers', async () => {
    const s = tlsSession()
    try {
      const statuses: number[] = []
      let last: H2Answer | undefined
      for (let i = 0; i < 4; i++) {
        last = await h2get(s, '/limited')
        statuses.push(last.status)
      }
      assert.deepEqual(statuses, [200, 200, 200, 429])
      assert.equal(last!.headers['x-ratelimit-limit-minute'], '3')
      assert.equal(last!.headers['x-ratelimit-remaining-minute'], '0')
      assert.ok(last!.headers['retry-after'])
    } finally {
      s.close()
    }
  })

  test('proxy-cache over h2 (prior knowledge, no TLS): Miss then Hit', async () => {
    const s = http2.connect(`http://127.0.0.1:${h2cPort}`)
    try {
      const before = up.seen.length
      const one = await h2get(s, '/cached/c')
      const two = await h2get(s, '/cached/c')
      assert.equal(one.headers['x-cache-status'], 'Miss')
      assert.equal(two.headers['x-cache-status'], 'Hit')
      assert.equal(two.body, one.body)
      assert.equal(up.seen.length, before + 1, 'one upstream request')
      assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'http')
    } finally {
      s.close()
    }
  })

  test('the h2c port still speaks HTTP/1.1; the TLS port still offers http/1.1', async () => {
    const plain = await call(`http://127.0.0.1:${h2cPort}/open`)
    assert.equal(plain.status, 200)
    const { Agent, request } = await import('undici')
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'edge.test' } })
    try {
      const res = await request(`https://127.0.0.1:${tlsPort}/open`, { dispatcher })
      assert.equal(res.statusCode, 200)
      await res.body.text()
      assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'https')
    } finally {
      await dispatcher.close()
    }
  })

  test('rapid reset: a client resetting streams at line rate is cut off, the node keeps serving', async () => {
    const s = tlsSession()
    await new Promise<void>((resolve) => s.once('connect', () => resolve()))
    let goaway = -1
    s.on('goaway', (code: number) => {
      goaway = code
    })
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 20_000)
      s.once('close', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
    let sent = 0
    s.on('error', () => {})
    // up to 5000 streams opened (HEADERS sent) and cancelled right away, as fast as the client can
    while (sent < 5000 && !s.destroyed && !s.closed) {
      const req = s.request({ ':path': '/slow' })
      req.on('error', () => {})
      req.close(http2.constants.NGHTTP2_CANCEL)
      sent++
      if (sent % 10 === 0) await new Promise((r) => setTimeout(r, 1))
    }
    assert.equal(
      await closed,
      true,
      `the session was closed (sent ${sent}, goaway ${goaway}, ${JSON.stringify(gw.h2)})`,
    )
    assert.equal(goaway, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM)
    assert.ok(gw.h2.resetCutoffs >= 1, 'the guard cut the session')
    assert.ok(sent < 5000, `cut off before the client was done (after ${sent} streams)`)
    const again = tlsSession()
    try {
      assert.equal((await h2get(again, '/open')).status, 200, 'others are still served')
    } finally {
      again.close()
    }
  })
})

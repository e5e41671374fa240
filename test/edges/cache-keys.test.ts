import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { cacheGateway, cachePlugin, eventually, type Node, startRedis } from '../fixtures/cache-helpers.js'
import { type Upstream, upstream } from '../fixtures/helpers.js'
import { get, RawClient } from '../fixtures/raw-http.js'

/**
 * An upstream written as the frameworks the cache-poisoning research attacked: it reflects the
 * scheme, host and URL overrides a client sends (a 301 to http://, a 404 for X-Original-URL,
 * the Host in its body), and reads `;` as a query separator (Rack, Tomcat).
 */
async function framework(): Promise<Upstream> {
  return upstream('fw', (req, res) => {
    const h = req.headers
    const send = (status: number, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', ...extra })
      res.end(body)
    }
    if (h['x-forwarded-scheme'] === 'http') return send(301, 'to http', { location: `http://${h.host}/` })
    const override = h['x-original-url'] ?? h['x-rewrite-url']
    if (override !== undefined) return send(404, `no ${override}`)
    if (h['x-http-method-override'] !== undefined) return send(200, `did ${h['x-http-method-override']}`)
    const url = new URL(req.url ?? '/', 'http://x')
    const params = new URLSearchParams(url.search.slice(1).replace(/;/g, '&'))
    send(200, `host=${h.host} a=${params.get('a')} n=${randomUUID().slice(0, 8)}`)
  })
}

const config = (url: string, strategy: 'memory' | 'redis') => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: plain
        paths: [/c]
        plugins: [${cachePlugin(strategy, 'response_code: [200, 301, 404]')}]
      - name: kept-host
        paths: [/k]
        preserve_host: true
        plugins: [${cachePlugin(strategy)}]
      - name: only-a
        paths: [/q]
        plugins: [${cachePlugin(strategy, 'vary_query_params: [a]')}]
      - name: posts
        paths: [/p]
        plugins: [${cachePlugin(strategy, 'cache_post: true, max_body_bytes: 64')}]
`

describe('edges: cache keys against poisoning (memory)', () => {
  let up: Upstream
  let gw: Node
  before(async () => {
    up = await framework()
    gw = await cacheGateway(config(up.url, 'memory'), 'memory')
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })
  const seen = () => up.seen.length

  /** The attacker's request, then a victim's on the same connection: the victim's own answer. */
  async function poison(path: string, attack: string) {
    const c = await RawClient.open(gw.proxy.port)
    const before = seen()
    const evil = await c.request(get(path, 'c.test', attack))
    const victim = await c.request(get(path, 'c.test'))
    const again = await c.request(get(path, 'c.test'))
    c.close()
    return { evil, victim, again, upstreamCalls: seen() - before }
  }

  test('X-Forwarded-Scheme is keyed: the 301 it causes is never served to others', async () => {
    const r = await poison('/c/scheme', 'X-Forwarded-Scheme: http')
    assert.deepEqual([r.evil.status, r.evil.headers['x-cache-status']], [301, 'Miss'])
    assert.deepEqual([r.victim.status, r.victim.headers['x-cache-status']], [200, 'Miss'])
    assert.deepEqual([r.again.status, r.again.headers['x-cache-status']], [200, 'Hit'])
    assert.equal(r.upstreamCalls, 2)
    assert.equal(up.seen.at(-1)!.headers['x-forwarded-scheme'], undefined)
  })

  for (const header of ['X-Original-URL', 'X-Rewrite-URL']) {
    test(`${header} bypasses the cache both ways`, async () => {
      const r = await poison(`/c/${header}`, `${header}: /admin`)
      assert.deepEqual([r.evil.status, r.evil.headers['x-cache-status']], [404, 'Bypass'])
      assert.deepEqual([r.victim.status, r.victim.headers['x-cache-status']], [200, 'Miss'])
      assert.equal(r.again.headers['x-cache-status'], 'Hit')
      // with the victim's entry stored, the override still reaches the upstream
      const c = await RawClient.open(gw.proxy.port)
      const later = await c.request(get(`/c/${header}`, 'c.test', `${header}: /admin`))
      assert.deepEqual([later.status, later.headers['x-cache-status']], [404, 'Bypass'])
      assert.equal(up.seen.at(-1)!.headers[header.toLowerCase()], '/admin')
      c.close()
    })
  }

  test('X-HTTP-Method-Override: a cached GET is never the answer to a DELETE in disguise', async () => {
    const c = await RawClient.open(gw.proxy.port)
    assert.equal((await c.request(get('/c/doc', 'c.test'))).headers['x-cache-status'], 'Miss')
    assert.equal((await c.request(get('/c/doc', 'c.test'))).headers['x-cache-status'], 'Hit')
    const before = seen()
    const del = await c.request(get('/c/doc', 'c.test', 'X-HTTP-Method-Override: DELETE'))
    assert.deepEqual([del.status, del.body, del.headers['x-cache-status']], [200, 'did DELETE', 'Bypass'])
    assert.equal(seen(), before + 1, 'the override reached the upstream')
    const next = await c.request(get('/c/doc', 'c.test'))
    assert.equal(next.headers['x-cache-status'], 'Hit')
    assert.doesNotMatch(next.body, /did/, 'and was not stored')
    c.close()
  })

  test('preserve_host: the Host port is part of the key', async () => {
    const r = await poison('/k/page', '')
    assert.equal(r.again.headers['x-cache-status'], 'Hit')
    const c = await RawClient.open(gw.proxy.port)
    const evil = await c.request(get('/k/page', 'c.test:1337'))
    assert.deepEqual(
      [evil.headers['x-cache-status'], evil.body.startsWith('host=c.test:1337 ')],
      ['Miss', true],
    )
    const victim = await c.request(get('/k/page', 'c.test'))
    assert.deepEqual(
      [victim.headers['x-cache-status'], victim.body.startsWith('host=c.test ')],
      ['Hit', true],
    )
    // the node's own port is what a Host without one means: the same entry
    const own = await c.request(get('/k/page', `c.test:${gw.proxy.port}`))
    assert.equal(own.headers['x-cache-status'], 'Hit')
    c.close()
  })

  test('a GET with a body (fat GET) bypasses: the key cannot see what the upstream reads', async () => {
    const c = await RawClient.open(gw.proxy.port)
    const fat = await c.request('GET /c/fat HTTP/1.1\r\nHost: c.test\r\nContent-Length: 5\r\n\r\na=bad')
    assert.equal(fat.headers['x-cache-status'], 'Bypass')
    assert.equal(up.seen.at(-1)!.body.toString(), 'a=bad')
    assert.equal((await c.request(get('/c/fat', 'c.test'))).headers['x-cache-status'], 'Miss')
    c.close()
  })

  test('a chunked POST body keys exactly as the same bytes with a Content-Length; past the bound it streams through uncached', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      const sized = (body: string) =>
        `POST /p/ask HTTP/1.1\r\nHost: c.test\r\nContent-Length: ${body.length}\r\n\r\n${body}`
      const chunked = (...parts: string[]) =>
        `POST /p/ask HTTP/1.1\r\nHost: c.test\r\nTransfer-Encoding: chunked\r\n\r\n${parts
          .map((p) => `${p.length.toString(16)}\r\n${p}\r\n`)
          .join('')}0\r\n\r\n`
      const before = seen()
      const first = await c.request(sized('q=chunks'))
      assert.equal(first.headers['x-cache-status'], 'Miss')
      const again = await c.request(chunked('q=', 'chu', 'nks'))
      assert.equal(again.headers['x-cache-status'], 'Hit')
      assert.equal(again.headers['x-cache-key'], first.headers['x-cache-key'])
      assert.equal(again.body, first.body)
      const other = await c.request(chunked('q=other'))
      assert.equal(other.headers['x-cache-status'], 'Miss')
      assert.notEqual(other.headers['x-cache-key'], first.headers['x-cache-key'])
      assert.equal(up.seen.at(-1)!.body.toString(), 'q=other')
      const long = 'x'.repeat(100)
      const big = await c.request(chunked(long.slice(0, 50), long.slice(50)))
      assert.equal(big.status, 200)
      assert.equal(big.headers['x-cache-status'], 'Bypass')
      assert.equal(up.seen.at(-1)!.body.toString(), long, 'the upstream got the whole body')
      assert.equal(seen() - before, 3)
      assert.equal((await c.request(get('/c/after-posts', 'c.test'))).status, 200, 'next request, own answer')
    } finally {
      c.close()
    }
  })

  test("parameter cloaking: with vary_query_params, a parameter behind ';' is still keyed", async () => {
    const c = await RawClient.open(gw.proxy.port)
    const evil = await c.request(get('/q/p?utm=x;a=evil', 'c.test'))
    assert.match(evil.body, /a=evil/)
    const victim = await c.request(get('/q/p?utm=y', 'c.test'))
    assert.equal(victim.headers['x-cache-status'], 'Miss')
    assert.match(victim.body, /a=null/)
    const keyed = await c.request(get('/q/p?a=evil&utm=z', 'c.test'))
    assert.equal(keyed.headers['x-cache-status'], 'Hit', 'the same a shares the entry')
    c.close()
  })
})

describe('edges: a Redis fill lock taken after its deadline blocks nobody', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>
  let up: Upstream
  let gw: Node
  let admin: Redis
  const prefix = `t${randomUUID().slice(0, 8)}:`
  before(async () => {
    redis = await startRedis()
    up = await framework()
    gw = await cacheGateway(config(up.url, 'redis'), 'redis', {
      prefix,
      settings: { redisUrl: redis.url, redisDeadlineMs: 100 },
    })
    admin = new Redis(redis.url)
  })
  after(async () => {
    admin.disconnect()
    await gw.stop()
    await up.close()
    await redis.stop()
  })

  test('CLIENT PAUSE 1500 WRITE: the miss bypasses, the lock that lands later is dropped at once', async () => {
    const locks = async () => (await admin.keys(`${prefix}*:lock`)).length
    await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE')
    const c = await RawClient.open(gw.proxy.port)
    const during = await c.request(get('/c/paused', 'c.test'))
    assert.deepEqual([during.status, during.headers['x-cache-status']], [200, 'Bypass'])
    const before = up.seen.length
    // a write of our own returns once the pause is over; the gateway's SET NX of the lock was
    // queued before it, and its release right behind that
    await admin.set(`${prefix}probe`, '1')
    assert.ok(await eventually(async () => (await locks()) === 0, 1000), 'no lock left that nobody holds')
    const next = await c.request(get('/c/paused', 'c.test'))
    assert.deepEqual([next.status, next.headers['x-cache-status']], [200, 'Miss'])
    assert.equal(up.seen.length, before + 1)
    assert.equal((await c.request(get('/c/paused', 'c.test'))).headers['x-cache-status'], 'Hit')
    c.close()
  })
})

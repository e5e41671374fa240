import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CACHE_STATUS } from '../../src/plugins/proxy-cache/state.js'
import { cacheGateway, cachePlugin, STRATEGIES, sleep } from '../fixtures/cache-helpers.js'
import { call } from '../fixtures/helpers.js'
import { stack } from '../fixtures/stack.js'

for (const strategy of STRATEGIES) {
  describe(`proxy-cache basics (${strategy})`, () => {
    const statuses: string[] = []
    const s = stack({
      respond: (req, res) => {
        const u = new URL(req.url!, 'http://x')
        if (u.pathname.startsWith('/html')) res.writeHead(200, { 'content-type': 'text/html' })
        else if (u.pathname.startsWith('/status/'))
          res.writeHead(Number(u.pathname.slice(8)), { 'content-type': 'application/json' })
        else if (u.pathname.startsWith('/vary'))
          res.writeHead(200, { 'content-type': 'application/json', vary: 'Accept-Language' })
        else if (u.pathname.startsWith('/big')) {
          const headers: Record<string, string> = { 'content-type': 'text/plain' }
          if (u.pathname === '/big/sized') headers['content-length'] = '5000'
          res.writeHead(200, headers)
        } else res.writeHead(200, { 'content-type': 'application/json', 'x-up': 'yes' })
        if (u.pathname.startsWith('/big')) return res.end('x'.repeat(5000))
        res.end(
          JSON.stringify({ n: s.up.seen.length, url: req.url, lang: req.headers['accept-language'] ?? null }),
        )
      },
      start: async (up) => {
        const gw = await cacheGateway(
          `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: c
        paths: [/c]
        plugins: [${cachePlugin(strategy, 'max_body_bytes: 1000')}]
      - name: q
        paths: [/q]
        plugins: [${cachePlugin(strategy, 'vary_query_params: [a], vary_headers: [X-Tenant]')}]
      - name: quiet
        paths: [/quiet]
        plugins: [${cachePlugin(strategy, 'response_headers: { age: false, X-Cache-Status: false, X-Cache-Key: false }')}]
      - name: short
        paths: [/short]
        plugins: [${cachePlugin(strategy, 'cache_ttl: 1')}]
      - name: kept
        paths: [/kept]
        plugins: [${cachePlugin(strategy, 'cache_ttl: 1, storage_ttl: 30')}]
`,
          strategy,
        )
        gw.gateway.observers.push((ctx) => statuses.push(ctx.get(CACHE_STATUS)))
        return gw
      },
    })

    test('a miss goes upstream, the next request is a hit with Age, X-Cache and X-Cache-Key', async () => {
      const before = s.up.seen.length
      const a = await call(`${s.gw.url}/c/one`)
      const b = await call(`${s.gw.url}/c/one`)
      assert.equal(a.status, 200)
      assert.equal(a.headers['x-cache-status'], 'Miss')
      assert.equal(a.headers['x-cache'], 'MISS')
      assert.equal(b.headers['x-cache-status'], 'Hit')
      assert.equal(b.headers['x-cache'], 'HIT')
      assert.match(String(a.headers['x-cache-key']), /^[0-9a-f]{64}$/)
      assert.equal(b.headers['x-cache-key'], a.headers['x-cache-key'])
      assert.equal(b.headers.age, '0')
      assert.equal(b.headers['x-up'], 'yes', 'the upstream’s headers are replayed')
      assert.equal(b.text, a.text)
      assert.notEqual(b.headers['x-request-id'], a.headers['x-request-id'])
      assert.equal(s.up.seen.length - before, 1)
      assert.deepEqual(statuses.slice(-2), ['Miss', 'Hit'], 'ctx.get(CACHE_STATUS) for logs and metrics')
    })

    test('HEAD is answered from the GET entry, without a body', async () => {
      const g = await call(`${s.gw.url}/c/head`)
      const h = await call(`${s.gw.url}/c/head`, { method: 'HEAD' })
      assert.equal(h.headers['x-cache-status'], 'Hit')
      assert.equal(h.text, '')
      assert.equal(h.headers['content-length'], String(Buffer.byteLength(g.text)))
    })

    test('the key: query order and path spelling do not matter; query values and methods do', async () => {
      const before = s.up.seen.length
      await call(`${s.gw.url}/c/k?a=1&b=2`)
      assert.equal((await call(`${s.gw.url}/c/k?b=2&a=1`)).headers['x-cache-status'], 'Hit')
      assert.equal(
        (await call(`${s.gw.url}/c//k/./?b=2&a=1`)).headers['x-cache-status'],
        'Miss',
        '/c/k/ is another path',
      )
      assert.equal(
        (await call(`${s.gw.url}/c/./k?b=2&a=1`)).headers['x-cache-status'],
        'Hit',
        'normalised path',
      )
      assert.equal((await call(`${s.gw.url}/c/k?a=2&b=2`)).headers['x-cache-status'], 'Miss')
      assert.equal((await call(`${s.gw.url}/c/k?a=1&a=2`)).headers['x-cache-status'], 'Miss')
      assert.equal(
        (await call(`${s.gw.url}/c/k?a=2&a=1`)).headers['x-cache-status'],
        'Miss',
        'repeated names keep their order',
      )
      assert.equal(
        (await call(`${s.gw.url}/c/k?a=1&b=2`, { method: 'POST' })).headers['x-cache-status'],
        'Bypass',
      )
      assert.equal(s.up.seen.length - before, 6)
    })

    test('vary_query_params and vary_headers: only the named ones are keyed', async () => {
      await call(`${s.gw.url}/q/x?a=1&utm=foo`, { headers: { 'x-tenant': 't1' } })
      assert.equal(
        (await call(`${s.gw.url}/q/x?utm=bar&a=1`, { headers: { 'x-tenant': 't1' } })).headers[
          'x-cache-status'
        ],
        'Hit',
      )
      assert.equal(
        (await call(`${s.gw.url}/q/x?a=2`, { headers: { 'x-tenant': 't1' } })).headers['x-cache-status'],
        'Miss',
      )
      assert.equal(
        (await call(`${s.gw.url}/q/x?a=1`, { headers: { 'x-tenant': 't2' } })).headers['x-cache-status'],
        'Miss',
      )
      assert.equal(
        (await call(`${s.gw.url}/q/x?a=1`)).headers['x-cache-status'],
        'Miss',
        'absent ≠ any value',
      )
      assert.equal(
        (await call(`${s.gw.url}/q/x?a=1`, { headers: { 'x-tenant': 't2' } })).headers['x-cache-status'],
        'Hit',
      )
    })

    test('the response’s Vary: each variant is stored under its own key', async () => {
      const before = s.up.seen.length
      const en1 = await call(`${s.gw.url}/c/vary`, { headers: { 'accept-language': 'en' } })
      const fr1 = await call(`${s.gw.url}/c/vary`, { headers: { 'accept-language': 'fr' } })
      const en2 = await call(`${s.gw.url}/c/vary`, { headers: { 'accept-language': 'en' } })
      const fr2 = await call(`${s.gw.url}/c/vary`, { headers: { 'accept-language': 'fr' } })
      const none = await call(`${s.gw.url}/c/vary`)
      assert.deepEqual(
        [en1, fr1, en2, fr2, none].map((r) => r.headers['x-cache-status']),
        ['Miss', 'Miss', 'Hit', 'Hit', 'Miss'],
      )
      assert.equal((en2.json() as { lang: string }).lang, 'en')
      assert.equal((fr2.json() as { lang: string }).lang, 'fr')
      assert.notEqual(en2.headers['x-cache-key'], fr2.headers['x-cache-key'])
      assert.equal(s.up.seen.length - before, 3)
    })

    test('uncacheable responses are Bypass and not stored: content type, status, size', async () => {
      for (const path of ['/c/html', '/c/status/201', '/c/big/sized']) {
        const a = await call(`${s.gw.url}${path}`)
        const b = await call(`${s.gw.url}${path}`)
        assert.equal(a.headers['x-cache-status'], 'Bypass', path)
        assert.equal(b.headers['x-cache-status'], 'Bypass', path)
      }
      // a streamed body found too large only once its headers are out: announced Miss, never stored
      const before = s.up.seen.length
      assert.equal((await call(`${s.gw.url}/c/big/chunked`)).text.length, 5000)
      assert.equal((await call(`${s.gw.url}/c/big/chunked`)).headers['x-cache-status'], 'Miss')
      assert.equal(s.up.seen.length - before, 2)
      const a = await call(`${s.gw.url}/c/status/404`)
      assert.equal(a.status, 404)
      assert.equal(
        (await call(`${s.gw.url}/c/status/404`)).headers['x-cache-status'],
        'Hit',
        '404 is cacheable by default',
      )
    })

    test('response_headers off: no diagnostic headers, unless the request sends Kong-Debug', async () => {
      await call(`${s.gw.url}/quiet/a`)
      const hit = await call(`${s.gw.url}/quiet/a`)
      assert.equal(hit.headers['x-cache-status'], undefined)
      assert.equal(hit.headers['x-cache-key'], undefined)
      assert.equal(hit.headers.age, undefined)
      const dbg = await call(`${s.gw.url}/quiet/a`, { headers: { 'kong-debug': '1' } })
      assert.equal(dbg.headers['x-cache-status'], 'Hit')
      assert.ok(dbg.headers['x-cache-key'])
      assert.equal(dbg.headers.age, '0')
    })

    test('cache_ttl: the entry expires with it; kept longer (storage_ttl), it is refreshed (Refresh)', async () => {
      await Promise.all([call(`${s.gw.url}/short/a`), call(`${s.gw.url}/kept/a`)])
      assert.equal((await call(`${s.gw.url}/short/a`)).headers['x-cache-status'], 'Hit')
      assert.equal((await call(`${s.gw.url}/kept/a`)).headers['x-cache-status'], 'Hit')
      await sleep(1100)
      assert.equal((await call(`${s.gw.url}/short/a`)).headers['x-cache-status'], 'Miss')
      assert.equal((await call(`${s.gw.url}/kept/a`)).headers['x-cache-status'], 'Refresh')
      assert.equal((await call(`${s.gw.url}/kept/a`)).headers['x-cache-status'], 'Hit')
    })
  })
}

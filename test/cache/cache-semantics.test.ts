import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { cacheGateway, cachePlugin, type Node, STRATEGIES, sleep } from '../fixtures/cache-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

// The upstream answers with the Cache-Control (and Set-Cookie) named in the path:
// /cc/<urlencoded cache-control>[/cookie]
async function ccUpstream(): Promise<Upstream> {
  const up: Upstream = await upstream('up', (req, res) => {
    const parts = new URL(req.url!, 'http://x').pathname.split('/')
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (parts[2]) headers['cache-control'] = decodeURIComponent(parts[2])
    if (parts[3] === 'cookie') headers['set-cookie'] = 'session=abc'
    res.writeHead(200, headers)
    res.end(JSON.stringify({ n: up.seen.length }))
  })
  return up
}

const cc = (v: string, rest = '') => `/cc/${encodeURIComponent(v)}${rest}`

for (const strategy of STRATEGIES) {
  describe(`HTTP caching semantics (${strategy})`, () => {
    let up: Upstream
    let gw: Node
    before(async () => {
      up = await ccUpstream()
      gw = await cacheGateway(
        `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: rfc
        paths: [/rfc]
        plugins: [${cachePlugin(strategy, 'cache_control: true')}]
      - name: plain
        paths: [/plain]
        plugins: [${cachePlugin(strategy)}]
`,
        strategy,
      )
    })
    after(async () => {
      await gw.stop()
      await up.close()
    })

    const twice = async (path: string, headers: Record<string, string> = {}) => {
      const a = await call(`${gw.url}${path}`, { headers })
      const b = await call(`${gw.url}${path}`, { headers })
      return [a.headers['x-cache-status'], b.headers['x-cache-status']]
    }

    test('cache_control: the response’s max-age / s-maxage set the lifetime; none means not stored', async () => {
      assert.deepEqual(await twice(`/rfc${cc('public, max-age=60')}`), ['Miss', 'Hit'])
      assert.deepEqual(
        await twice(`/rfc${cc('max-age=60, s-maxage=0')}`),
        ['Bypass', 'Bypass'],
        's-maxage wins',
      )
      assert.deepEqual(await twice(`/rfc${cc('public')}`), ['Bypass', 'Bypass'], 'no lifetime')
      assert.deepEqual(await twice('/rfc/'), ['Bypass', 'Bypass'], 'no Cache-Control at all')
    })

    test('cache_control: response no-store, private and no-cache are never stored', async () => {
      for (const v of ['no-store, max-age=60', 'private, max-age=60', 'no-cache, max-age=60']) {
        assert.deepEqual(await twice(`/rfc${cc(v)}`), ['Bypass', 'Bypass'], v)
      }
    })

    test('cache_control: request no-cache refreshes, no-store bypasses, max-age bounds the age', async () => {
      const path = `/rfc${cc('max-age=60')}/r`
      await call(`${gw.url}${path}`)
      const before = up.seen.length
      const refreshed = await call(`${gw.url}${path}`, { headers: { 'cache-control': 'no-cache' } })
      assert.equal(refreshed.headers['x-cache-status'], 'Refresh')
      assert.equal(up.seen.length, before + 1)
      const hit = await call(`${gw.url}${path}`)
      assert.equal(hit.headers['x-cache-status'], 'Hit')
      assert.equal(hit.text, refreshed.text, 'the refreshed answer was stored')
      assert.equal(
        (await call(`${gw.url}${path}`, { headers: { 'cache-control': 'no-store' } })).headers[
          'x-cache-status'
        ],
        'Bypass',
      )
      await sleep(20)
      assert.equal(
        (await call(`${gw.url}${path}`, { headers: { 'cache-control': 'max-age=0' } })).headers[
          'x-cache-status'
        ],
        'Refresh',
      )
      assert.equal(
        (await call(`${gw.url}${path}`, { headers: { 'cache-control': 'max-age=60' } })).headers[
          'x-cache-status'
        ],
        'Hit',
      )
    })

    test('cache_control: only-if-cached answers 504 on a miss, and from the cache on a hit', async () => {
      const path = `/rfc${cc('max-age=60')}/oic`
      const before = up.seen.length
      const miss = await call(`${gw.url}${path}`, { headers: { 'cache-control': 'only-if-cached' } })
      assert.equal(miss.status, 504)
      assert.match((miss.json() as { message: string }).message, /only-if-cached/)
      assert.equal(up.seen.length, before, 'nothing went upstream')
      await call(`${gw.url}${path}`)
      const hit = await call(`${gw.url}${path}`, { headers: { 'cache-control': 'only-if-cached' } })
      assert.equal(hit.status, 200)
      assert.equal(hit.headers['x-cache-status'], 'Hit')
    })

    test('without cache_control, request directives are ignored (Kong)', async () => {
      const path = `/plain${cc('max-age=60')}/x`
      await call(`${gw.url}${path}`)
      assert.equal(
        (await call(`${gw.url}${path}`, { headers: { 'cache-control': 'no-cache' } })).headers[
          'x-cache-status'
        ],
        'Hit',
      )
    })

    test('never stored whatever the config: Set-Cookie, private, no-store', async () => {
      assert.deepEqual(await twice(`/plain${cc('max-age=60', '/cookie')}`), ['Bypass', 'Bypass'])
      assert.deepEqual(await twice(`/plain${cc('private')}`), ['Bypass', 'Bypass'])
      assert.deepEqual(await twice(`/plain${cc('no-store')}`), ['Bypass', 'Bypass'])
      assert.deepEqual(
        await twice(`/plain${cc('no-cache')}`),
        ['Miss', 'Hit'],
        'no-cache only counts with cache_control',
      )
    })
  })
}

// Port of Kong 3.10 spec/03-plugins/31-proxy-cache/02-access_spec.lua (policy memory): each case
// carries the name of the Kong `it(...)` it transcribes. `mock` answers as Kong's mock upstream
// does on the paths these cases use (`/get`, `/cache/<s>`, `/stream/<n>`, `/xml`,
// `/response-headers`, `/status/<code>`, `/post`, anything else a JSON 404).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream, upstream } from '../fixtures/helpers.js'
import { send } from '../fixtures/kong-echo.js'

let mock: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const get = (host: string, path = '/get', headers: Record<string, string> = {}) =>
  send(`${gw.url}${path}`, { headers: { host, ...headers } })
const status = (res: { headers: Record<string, unknown> }) => res.headers['x-cache-status']

before(async () => {
  mock = await upstream('kong-mock', (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const json = (code: number, value: unknown, extra: Record<string, string> = {}) => {
      // `/response-headers?Content-Type=…` replaces the JSON type (names compared as headers are)
      const own = Object.keys(extra).some((k) => k.toLowerCase() === 'content-type')
      res.writeHead(code, { ...(own ? {} : { 'content-type': 'application/json' }), ...extra })
      res.end(JSON.stringify(value))
    }
    const echo = {
      url: req.url,
      headers: req.headers,
      args: Object.fromEntries(url.searchParams),
      body: body.toString(),
    }
    const p = url.pathname
    let m: RegExpExecArray | null
    if (p === '/get' || p === '/post') return json(200, echo)
    if ((m = /^\/cache\/(\d+)$/.exec(p)) !== null)
      return json(200, echo, { 'cache-control': `public, max-age=${m[1]}` })
    if ((m = /^\/status\/(\d+)$/.exec(p)) !== null) return json(Number(m[1]), echo)
    if ((m = /^\/stream\/(\d+)$/.exec(p)) !== null) {
      res.writeHead(200, { 'content-type': 'application/json' })
      for (let i = 0; i < Number(m[1]); i++) res.write(`${JSON.stringify({ id: i })}\n`)
      return res.end()
    }
    if (p === '/xml') {
      res.writeHead(200, { 'content-type': 'application/xml' })
      return res.end('<?xml version="1.0"?><a/>')
    }
    if (p === '/response-headers') return json(200, echo, Object.fromEntries(url.searchParams))
    return json(404, { message: 'not found' })
  })
  const pc = (n: number, extra = '') =>
    `  - { route: r${n}, name: proxy-cache, config: { strategy: memory, memory: { dictionary_name: kong }, content_type: [text/plain, application/json]${extra} } }`
  const routes = Array.from(
    { length: 24 },
    (_, i) => `  - { name: r${i + 1}, service: s, hosts: [route-${i + 1}.test] }`,
  )
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${mock.url}" }]
routes:
${routes.join('\n')}
consumers:
  - { username: bob, keyauth_credentials: [{ key: bob }] }
  - { username: alice, keyauth_credentials: [{ key: alice }] }
plugins:
${[5, 13, 14, 15, 16].map((n) => `  - { route: r${n}, name: key-auth }`).join('\n')}
${pc(1)}
${pc(2)}
  - { name: proxy-cache, config: { strategy: memory, memory: { dictionary_name: kong }, content_type: [text/plain, application/json] } }
${pc(5)}
${pc(6, ', cache_ttl: 2')}
${pc(7, ', cache_control: true')}
${pc(8, ', cache_control: true, storage_ttl: 600')}
${pc(9, ', cache_ttl: 2, storage_ttl: 60')}
  - { route: r10, name: proxy-cache, config: { strategy: memory, memory: { dictionary_name: kong }, content_type: ["text/html; charset=utf-8", application/json], response_code: [200, 417], request_method: [GET, HEAD, POST] } }
${pc(11, ', response_code: [200], request_method: [GET, HEAD, POST], vary_headers: [foo]')}
${pc(12, ', response_code: [200], request_method: [GET, HEAD, POST], vary_query_params: [foo]')}
${[13, 14, 15, 16].map((n) => pc(n)).join('\n')}
  - { route: r17, name: proxy-cache, config: { strategy: memory, memory: { dictionary_name: kong }, content_type: ["*/*"] } }
  - { route: r18, name: proxy-cache, config: { strategy: memory, memory: { dictionary_name: kong }, content_type: ["application/xml; charset=UTF-8"] } }
  - { route: r19, name: proxy-cache, config: { strategy: memory, memory: { dictionary_name: kong }, content_type: ["application/xml;"] } }
${pc(20, ', response_code: [404], ignore_uri_case: true')}
${pc(21, ', response_code: [404], ignore_uri_case: false')}
${pc(22, ', response_headers: { age: false, X-Cache-Status: false, X-Cache-Key: false }')}
${pc(23, ', response_headers: { age: true, X-Cache-Status: true, X-Cache-Key: true }')}
${pc(24)}
`)
})
after(async () => {
  await gw.stop()
  await mock.close()
})

describe('proxy-cache access with policy: memory', () => {
  it('caches a simple request', async () => {
    const first = await get('route-1.test')
    assert.equal(first.status, 200)
    assert.equal(status(first), 'Miss')
    const key1 = String(first.headers['x-cache-key'])
    assert.match(key1, /^[a-z0-9]{64}$/)
    const second = await get('route-1.test')
    assert.equal(status(second), 'Hit')
    assert.equal(second.headers['x-cache-key'], key1)
    assert.equal(second.text, first.text)
  })
  it('No X-Cache* neither age headers on the response without debug header in the query', async () => {
    assert.equal(status(await get('route-22.test')), undefined)
    const res = await get('route-22.test')
    assert.equal(res.status, 200)
    assert.equal(status(res), undefined)
    assert.equal(res.headers['x-cache-key'], undefined)
    assert.equal(res.headers.age, undefined)
    const debug = await get('route-22.test', '/get', { 'kong-debug': '1' })
    assert.equal(status(debug), 'Hit')
    assert.notEqual(debug.headers.age, undefined)
    assert.notEqual(debug.headers['x-cache-key'], undefined)
  })
  for (const [n, what] of [
    [23, 'when configured'],
    [24, 'when set to default'],
  ] as const)
    it(`response_headers headers on the response ${what}`, async () => {
      let res = await get(`route-${n}.test`)
      assert.equal(status(res), 'Miss')
      assert.notEqual(res.headers['x-cache-key'], undefined)
      assert.equal(res.headers.age, undefined)
      res = await get(`route-${n}.test`)
      assert.equal(status(res), 'Hit')
      assert.notEqual(res.headers.age, undefined)
      assert.notEqual(res.headers['x-cache-key'], undefined)
    })
  it('respects cache ttl', async () => {
    assert.equal(status(await get('route-6.test')), 'Miss')
    assert.equal(status(await get('route-6.test')), 'Hit')
    await sleep(3000)
    assert.equal(status(await get('route-6.test')), 'Miss')
    assert.equal(status(await get('route-6.test')), 'Hit')
    assert.equal(status(await get('route-9.test')), 'Miss')
    assert.equal(status(await get('route-9.test')), 'Hit')
    await sleep(3000)
    assert.equal(status(await get('route-9.test')), 'Refresh')
    assert.equal(status(await get('route-9.test')), 'Hit')
  })
  it('respects cache ttl via cache control', async () => {
    assert.equal(status(await get('route-7.test', '/cache/2')), 'Miss')
    assert.equal(status(await get('route-7.test', '/cache/2')), 'Hit')
    await sleep(3000)
    assert.equal(status(await get('route-7.test', '/cache/2')), 'Miss')
    assert.equal(status(await get('route-7.test', '/cache/2')), 'Hit')
    assert.equal(status(await get('route-7.test', '/cache/0')), 'Bypass')
    assert.equal(status(await get('route-7.test', '/cache/0')), 'Bypass')
  })
  it('public not present in Cache-Control, but max-age is', async () => {
    assert.equal(
      status(await get('route-7.test', '/response-headers?Cache-Control=max-age%3D604800')),
      'Miss',
    )
  })
  it('Cache-Control contains s-maxage only', async () => {
    assert.equal(
      status(await get('route-7.test', '/response-headers?Cache-Control=s-maxage%3D604800')),
      'Miss',
    )
  })
  it('Expires present, Cache-Control absent', async () => {
    const date = encodeURIComponent(new Date(Date.now() + 5_000_000).toUTCString())
    assert.equal(status(await get('route-7.test', `/response-headers?Expires=${date}`)), 'Miss')
  })
  it('min-fresh', async () => {
    assert.equal(
      status(await get('route-7.test', '/cache/2', { 'cache-control': 'min-fresh=30' })),
      'Refresh',
    )
  })
  it('max-age', async () => {
    const h = { 'cache-control': 'max-age=2' }
    assert.equal(status(await get('route-7.test', '/cache/10', h)), 'Miss')
    assert.equal(status(await get('route-7.test', '/cache/10', h)), 'Hit')
    await sleep(3000)
    assert.equal(status(await get('route-7.test', '/cache/10', h)), 'Refresh')
  })
  it('max-stale', async () => {
    assert.equal(status(await get('route-8.test', '/cache/2')), 'Miss')
    assert.equal(status(await get('route-8.test', '/cache/2')), 'Hit')
    await sleep(4000)
    assert.equal(status(await get('route-8.test', '/cache/2', { 'cache-control': 'max-stale=1' })), 'Refresh')
  })
  it('only-if-cached', async () => {
    assert.equal(
      (await get('route-8.test', '/get?not=here', { 'cache-control': 'only-if-cached' })).status,
      504,
    )
  })
  it('caches a streaming request', async () => {
    const first = await get('route-1.test', '/stream/3')
    assert.equal(first.status, 200)
    assert.equal(status(first), 'Miss')
    assert.equal(first.headers['content-length'], undefined)
    const second = await get('route-1.test', '/stream/3')
    assert.equal(status(second), 'Hit')
    assert.equal(second.text, first.text)
  })
  it('uses a separate cache key for the same consumer between routes', async () => {
    const a = await get('route-13.test', '/get', { apikey: 'bob' })
    const b = await get('route-14.test', '/get', { apikey: 'bob' })
    assert.equal(a.status, 200)
    assert.equal(b.status, 200)
    assert.notEqual(a.headers['x-cache-key'], b.headers['x-cache-key'])
  })
  it('uses a separate cache key for the same consumer between routes/services', async () => {
    const a = await get('route-15.test', '/get', { apikey: 'bob' })
    const b = await get('route-16.test', '/get', { apikey: 'bob' })
    assert.notEqual(a.headers['x-cache-key'], b.headers['x-cache-key'])
  })
  it('uses an separate cache key between routes-specific and a global plugin', async () => {
    const a = await get('route-3.test')
    assert.equal(status(a), 'Miss')
    assert.match(String(a.headers['x-cache-key']), /^[a-z0-9]{64}$/)
    const b = await get('route-4.test')
    assert.equal(status(b), 'Miss')
    assert.notEqual(a.headers['x-cache-key'], b.headers['x-cache-key'])
  })
  it('differentiates caches between instances', async () => {
    const a = await get('route-2.test')
    assert.equal(status(a), 'Miss')
    const b = await get('route-2.test')
    assert.equal(status(b), 'Hit')
    assert.equal(b.headers['x-cache-key'], a.headers['x-cache-key'])
  })
  it('uses request params as part of the cache key', async () => {
    assert.equal(status(await get('route-1.test', '/get?a=b&b=c')), 'Miss')
    assert.equal(status(await get('route-1.test', '/get?a=c')), 'Miss')
    assert.equal(status(await get('route-1.test', '/get?b=c&a=b')), 'Hit')
    assert.equal(status(await get('route-1.test', '/get?a&b')), 'Miss')
    assert.equal(status(await get('route-1.test', '/get?a&b')), 'Hit')
  })
  it('can focus only in a subset of the query arguments', async () => {
    assert.equal(status(await get('route-12.test', '/get?foo=b&b=c')), 'Miss')
    assert.equal(status(await get('route-12.test', '/get?b=d&foo=b')), 'Hit')
  })
  it('uses headers if instructed to do so', async () => {
    assert.equal(status(await get('route-11.test', '/get', { foo: 'bar' })), 'Miss')
    assert.equal(status(await get('route-11.test', '/get', { foo: 'bar' })), 'Hit')
    assert.equal(status(await get('route-11.test', '/get', { foo: 'baz' })), 'Miss')
  })
  it('by ignoring cache if the request is unauthenticated', async () => {
    const res = await get('route-5.test')
    assert.equal(res.status, 401)
    assert.equal(status(res), undefined)
  })
  it('by maintaining a separate cache per consumer', async () => {
    assert.equal(status(await get('route-5.test', '/get', { apikey: 'bob' })), 'Miss')
    assert.equal(status(await get('route-5.test', '/get', { apikey: 'bob' })), 'Hit')
    assert.equal(status(await get('route-5.test', '/get', { apikey: 'alice' })), 'Miss')
    assert.equal(status(await get('route-5.test', '/get', { apikey: 'alice' })), 'Hit')
  })
  it('request method', async () => {
    const res = await send(`${gw.url}/post`, {
      method: 'POST',
      headers: { host: 'route-1.test', 'content-type': 'application/json' },
      body: '{"foo":"bar"}',
    })
    assert.equal(res.status, 200)
    assert.equal(status(res), 'Bypass')
  })
  it('response status', async () => {
    const res = await get('route-1.test', '/status/418')
    assert.equal(res.status, 418)
    assert.equal(status(res), 'Bypass')
  })
  it('response content type', async () => {
    const res = await get('route-1.test', '/xml')
    assert.equal(res.status, 200)
    assert.equal(status(res), 'Bypass')
  })
  it('request methods (caches non-default)', async () => {
    const post = () =>
      send(`${gw.url}/post`, {
        method: 'POST',
        headers: { host: 'route-10.test', 'content-type': 'application/json' },
        body: '{"foo":"bar"}',
      })
    assert.equal(status(await post()), 'Miss')
    assert.equal(status(await post()), 'Hit')
  })
  it('response status (caches non-default)', async () => {
    const a = await get('route-10.test', '/status/417')
    assert.equal(a.status, 417)
    assert.equal(status(a), 'Miss')
    const b = await get('route-10.test', '/status/417')
    assert.equal(b.status, 417)
    assert.equal(status(b), 'Hit')
  })
  it('X-Kong-Proxy-Latency', async () => {
    let res = await get('route-1.test', '/get?show-me=proxy-latency')
    assert.equal(status(res), 'Miss')
    assert.match(String(res.headers['x-kong-proxy-latency']), /^\d+$/)
    res = await get('route-1.test', '/get?show-me=proxy-latency')
    assert.equal(status(res), 'Hit')
    assert.match(String(res.headers['x-kong-proxy-latency']), /^\d+$/)
  })
  it('X-Kong-Upstream-Latency', async () => {
    let res = await get('route-1.test', '/get?show-me=upstream-latency')
    assert.equal(status(res), 'Miss')
    assert.match(String(res.headers['x-kong-upstream-latency']), /^\d+$/)
    res = await get('route-1.test', '/get?show-me=upstream-latency')
    assert.equal(status(res), 'Hit')
    assert.match(String(res.headers['x-kong-upstream-latency']), /^\d+$/)
  })
  it('should cache a request with wildcard content_type(*/*)', async () => {
    let res = await get('route-17.test', '/xml')
    assert.equal(res.headers['content-type'], 'application/xml')
    assert.equal(status(res), 'Miss')
    res = await get('route-17.test', '/xml')
    assert.equal(res.headers['content-type'], 'application/xml')
    assert.equal(status(res), 'Hit')
  })
  it('should not cache a request while parameter is not match', async () => {
    const res = await get('route-18.test', '/xml')
    assert.equal(res.headers['content-type'], 'application/xml')
    assert.equal(status(res), 'Bypass')
  })
  it('should not cause error while upstream returns a invalid content type', async () => {
    const res = await get('route-18.test', '/response-headers?Content-Type=application/xml;')
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'application/xml;')
    assert.equal(status(res), 'Bypass')
  })
  it('should not cause error while config.content_type has invalid element', async () => {
    const res = await get('route-19.test', '/xml')
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'application/xml')
    assert.equal(status(res), 'Bypass')
  })
  it('ignore uri case in cache_key', async () => {
    const a = await get('route-20.test', '/ignore-case/kong')
    assert.equal(a.status, 404)
    assert.equal(status(a), 'Miss')
    assert.match(String(a.headers['x-cache-key']), /^[a-z0-9]{64}$/)
    const b = await get('route-20.test', '/ignore-case/KONG')
    assert.equal(b.status, 404)
    assert.equal(status(b), 'Hit')
    assert.equal(b.headers['x-cache-key'], a.headers['x-cache-key'])
    assert.equal(b.text, a.text)
  })
  it('acknowledge uri case in cache_key', async () => {
    const a = await get('route-21.test', '/acknowledge-case/kong')
    assert.equal(a.status, 404)
    assert.equal(status(a), 'Miss')
    const b = await get('route-21.test', '/acknowledge-case/KONG')
    assert.equal(status(b), 'Miss')
    assert.notEqual(b.headers['x-cache-key'], a.headers['x-cache-key'])
  })
})

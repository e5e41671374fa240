// Port of Kong 3.10 spec/03-plugins/13-cors/01-access_spec.lua (the preflight and actual
// request cases): each case carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

const CORS_DEFAULT_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT'
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const req = (method: string, host: string, headers: Record<string, string> = {}, path = '/anything') =>
  send(`${gw.url}${path}`, { method, headers: { host, ...headers } })
const route = (host: string, config: string, service = 's', extra = '') =>
  `  - { name: ${host}, service: ${service}, hosts: [${host}.test], plugins: [{ name: cors, config: ${config} }${extra}] }`
const OPTS =
  'origins: [example.test], methods: [GET], headers: [origin, type, accepts], exposed_headers: [x-auth-token]'

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services:
  - { name: s, url: "${echo.url}" }
  - { name: dead, url: "http://127.0.0.1:9" }
routes:
${route('cors1', '{}')}
${route('cors2', `{ ${OPTS}, max_age: 23, credentials: true }`)}
${route('cors3', `{ ${OPTS}, max_age: 23, preflight_continue: true }`)}
${route('cors4', '{}', 's', ', { name: key-auth }')}
${route('cors5', '{ origins: ["*"], credentials: true }')}
${route('cors6', `{ origins: [example.test, example.org], methods: [GET], headers: [origin, type, accepts], exposed_headers: [x-auth-token], max_age: 23, preflight_continue: true }`)}
${route('cors-empty-origins', '{ origins: [] }')}
${route('cors9', '{ origins: [".*\\\\.?example(?:-foo)?.test"] }')}
${route('cors10', '{ origins: ["http://my-site.test", "http://my-other-site.test"] }')}
${route('cors11', '{ origins: ["http://my-site.test", "https://my-other-site.test:9000"] }')}
${route('cors13', '{ preflight_continue: false, private_network: true, origins: [allowed-domain.test] }')}
${route('cors14', '{ preflight_continue: false, origins: [foo.bar, "*"] }')}
${route('cors-timeout', `{ ${OPTS}, max_age: 10, preflight_continue: true }`, 'dead')}
${route('cors-upstream', '{ origins: [example.test] }')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

type Res = Awaited<ReturnType<typeof req>>
const absent = (res: Res, ...names: string[]) => {
  for (const name of names) assert.equal(res.headers[name.toLowerCase()], undefined, name)
}
const preflight = (host: string, origin: string, extra: Record<string, string> = {}) =>
  req('OPTIONS', host, { origin, 'access-control-request-method': 'GET', ...extra })

describe('Plugin: cors (access) — HTTP method: OPTIONS', () => {
  it('gives appropriate defaults', async () => {
    const res = await preflight('cors1.test', 'origin1.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-length'], '0')
    assert.equal(res.headers['access-control-allow-methods'], CORS_DEFAULT_METHODS)
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(
      res,
      'Access-Control-Allow-Headers',
      'Access-Control-Expose-Headers',
      'Access-Control-Allow-Credentials',
      'Access-Control-Max-Age',
      'Vary',
    )
  })
  it('gives * wildcard when config.origins is empty', async () => {
    const res = await preflight('cors-empty-origins.test', 'empty-origin.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(res, 'Access-Control-Allow-Credentials', 'Vary')
  })
  it('gives appropriate defaults when origin is explicitly set to * and config.credentials=true', async () => {
    const res = await preflight('cors5.test', 'origin5.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], 'origin5.test')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.equal(res.headers.vary, 'Origin')
    absent(res, 'Access-Control-Allow-Headers', 'Access-Control-Expose-Headers', 'Access-Control-Max-Age')
  })
  it('gives * wildcard when origin has multiple entries and have * included', async () => {
    const res = await preflight('cors14.test', 'http://www.example.net')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(res, 'Access-Control-Allow-Credentials')
  })
  it('accepts config options', async () => {
    const res = await preflight('cors2.test', 'origin5.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-methods'], 'GET')
    assert.equal(res.headers['access-control-allow-origin'], 'example.test')
    assert.equal(res.headers['access-control-max-age'], '23')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.equal(res.headers['access-control-allow-headers'], 'origin,type,accepts')
    assert.equal(res.headers.vary, 'Origin')
    absent(res, 'Access-Control-Expose-Headers')
  })
  it('preflight_continue enabled', async () => {
    const res = await req('OPTIONS', 'cors3.test', {}, '/status/201')
    assert.equal(res.status, 201)
  })
  it('replies with request-headers if present in request', async () => {
    const res = await preflight('cors5.test', 'origin5.test', {
      'access-control-request-headers': 'origin,accepts',
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-headers'], 'origin,accepts')
  })
  it('properly validates flat strings', async () => {
    const ok = await req('OPTIONS', 'cors10.test', { origin: 'http://my-site.test' })
    assert.equal(ok.headers['access-control-allow-origin'], 'http://my-site.test')
    for (const origin of ['http://bad-guys.test', 'http://my-site.test.bad-guys.test']) {
      const res = await req('OPTIONS', 'cors10.test', { origin })
      assert.equal(res.status, 200)
      absent(res, 'Access-Control-Allow-Origin')
    }
  })
  it('support private-network', async () => {
    const res = await req('OPTIONS', 'cors13.test', {
      origin: 'allowed-domain.test',
      'access-control-request-private-network': 'true',
      'access-control-request-method': 'PUT',
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-private-network'], 'true')
  })
})

describe('Plugin: cors (access) — HTTP method: others', () => {
  it('gives appropriate defaults', async () => {
    const res = await req('GET', 'cors1.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(
      res,
      'Access-Control-Allow-Methods',
      'Access-Control-Allow-Headers',
      'Access-Control-Expose-Headers',
      'Access-Control-Allow-Credentials',
      'Access-Control-Max-Age',
      'Vary',
    )
  })
  it('proxies a non-preflight OPTIONS request', async () => {
    const res = await req('OPTIONS', 'cors1.test')
    assert.equal(res.status, 200)
    assert.equal((res.body.vars as { request_method: string }).request_method, 'OPTIONS')
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(res, 'Access-Control-Allow-Methods', 'Vary')
  })
  it('accepts config options', async () => {
    const res = await req('GET', 'cors2.test')
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], 'example.test')
    assert.equal(res.headers['access-control-expose-headers'], 'x-auth-token')
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.equal(res.headers.vary, 'Origin')
    absent(res, 'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers', 'Access-Control-Max-Age')
  })
  it('works even when upstream timeouts', async () => {
    const res = await req('GET', 'cors-timeout.test')
    assert.equal(res.status, 502)
    assert.equal(res.headers['access-control-allow-origin'], 'example.test')
    assert.equal(res.headers['access-control-expose-headers'], 'x-auth-token')
    assert.equal(res.headers.vary, 'Origin')
  })
  it('works with 404 responses', async () => {
    const res = await req('GET', 'cors1.test', {}, '/status/404')
    assert.equal(res.status, 404)
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(res, 'Vary')
  })
  it('works with 40x responses returned by another plugin', async () => {
    const res = await req('GET', 'cors4.test')
    assert.equal(res.status, 401)
    assert.equal(res.headers['access-control-allow-origin'], '*')
    absent(res, 'Access-Control-Allow-Methods', 'Vary')
  })
  it('sets CORS orgin based on origin host', async () => {
    const res = await req('GET', 'cors6.test', { origin: 'example.test' })
    assert.equal(res.headers['access-control-allow-origin'], 'example.test')
    assert.equal(res.headers.vary, 'Origin')
    const domains: Record<string, boolean> = {
      'example.test': true,
      'www.example.test': true,
      'example-foo.test': true,
      'www.example-foo.test': true,
      'www.example-fo0.test': false,
    }
    for (const [domain, allowed] of Object.entries(domains)) {
      const r = await req('GET', 'cors9.test', { origin: domain })
      assert.equal(r.status, 200)
      assert.equal(r.headers['access-control-allow-origin'], allowed ? domain : undefined, domain)
      assert.equal(r.headers.vary, 'Origin')
    }
  })
  it("sets Vary and don't override existing Vary header", async () => {
    const res = await req(
      'GET',
      'cors-upstream.test',
      { origin: 'example.test' },
      '/response-headers?vary=Accept-Encoding',
    )
    assert.equal(res.status, 200)
    const vary = ([] as string[]).concat(res.headers.vary as string | string[]).join(', ')
    assert.equal(vary, 'Accept-Encoding, Origin')
  })
  it('does not automatically parse the host', async () => {
    for (const origin of ['http://example.test', 'https://example.test']) {
      const res = await req('GET', 'cors6.test', { origin })
      assert.equal(res.status, 200)
      absent(res, 'Access-Control-Allow-Origin')
    }
  })
  it('validates scheme and port', async () => {
    const cases: Array<[string, string | undefined]> = [
      ['http://my-site.test', 'http://my-site.test'],
      ['http://my-site.test:80', 'http://my-site.test'],
      ['http://my-site.test:8000', undefined],
      ['https://my-site.test', undefined],
      ['https://my-other-site.test:9000', 'https://my-other-site.test:9000'],
      ['https://my-other-site.test:9001', undefined],
    ]
    for (const [origin, allowed] of cases) {
      const res = await req('GET', 'cors11.test', { origin })
      assert.equal(res.headers['access-control-allow-origin'], allowed, origin)
    }
  })
})

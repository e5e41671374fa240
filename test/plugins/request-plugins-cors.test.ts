import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call, gateway, oneService } from '../fixtures/helpers.js'
import { stack } from '../fixtures/stack.js'

const PREFLIGHT = { origin: 'https://app.example.com', 'access-control-request-method': 'POST' }

describe('cors', () => {
  const s = stack({
    respond: (req, res) => {
      // an upstream that varies on its own and answers preflights when they reach it
      res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
        'content-type': 'application/json',
        vary: 'Accept-Encoding',
        'x-upstream-options': req.method === 'OPTIONS' ? 'yes' : 'no',
      })
      res.end(req.method === 'OPTIONS' ? undefined : '{"ok":true}')
    },
    start: (up) =>
      gateway(
        oneService(
          up.url,
          ['any', 'exact', 'list', 'creds-any', 'continue', 'strict-origin'],
          `      - { name: get-only, paths: [/get-only], methods: [GET] }
      - { name: denied, paths: [/denied] }
plugins:
  - { name: cors, route: any }
  - name: cors
    route: exact
    config:
      origins: [https://app.example.com]
      methods: [GET, POST]
      headers: [Authorization, Content-Type]
      exposed_headers: [X-Total, X-Page]
      credentials: true
      max_age: 3600
      private_network: true
  - name: cors
    route: list
    config: { origins: ["https://a.example.com", "(dev|www)\\\\.example\\\\.org"] }
  - name: cors
    route: creds-any
    config: { origins: ["*"], credentials: true }
  - name: cors
    route: continue
    config: { origins: [https://app.example.com], preflight_continue: true }
  - name: cors
    route: strict-origin
    config: { allow_origin_absent: false, origins: [https://app.example.com] }
  - { name: cors, route: get-only }
  - { name: cors, route: denied }
  - name: request-termination
    route: denied
    config: { status_code: 401, message: Unauthorized }
`,
        ),
      ),
  })

  test('a preflight is answered 200 by the gateway with the default headers', async () => {
    const before = s.up.seen.length
    const r = await call(`${s.gw.url}/any`, {
      method: 'OPTIONS',
      headers: { ...PREFLIGHT, 'access-control-request-headers': 'X-Custom, Content-Type' },
    })
    assert.equal(r.status, 200)
    assert.equal(r.text, '')
    assert.equal(r.headers['access-control-allow-origin'], '*')
    assert.equal(
      r.headers['access-control-allow-methods'],
      'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT',
    )
    assert.equal(r.headers['access-control-allow-headers'], 'X-Custom, Content-Type')
    assert.equal(r.headers['access-control-max-age'], undefined)
    assert.equal(r.headers['access-control-allow-credentials'], undefined)
    assert.equal(r.headers.vary, undefined, 'no Vary for *')
    assert.equal(s.up.seen.length, before)
  })

  test('a configured preflight: exact origin, methods, headers, max age, credentials, private network', async () => {
    const r = await call(`${s.gw.url}/exact`, {
      method: 'OPTIONS',
      headers: { ...PREFLIGHT, 'access-control-request-private-network': 'true' },
    })
    assert.equal(r.status, 200)
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.equal(r.headers['access-control-allow-methods'], 'GET,POST')
    assert.equal(r.headers['access-control-allow-headers'], 'Authorization,Content-Type')
    assert.equal(r.headers['access-control-max-age'], '3600')
    assert.equal(r.headers['access-control-allow-credentials'], 'true')
    assert.equal(r.headers['access-control-allow-private-network'], 'true')
    assert.equal(r.headers.vary, 'Origin')
    assert.equal(
      r.headers['access-control-expose-headers'],
      undefined,
      'expose headers are for actual requests',
    )
  })

  test('an actual request gets the origin, credentials and exposed headers; Vary keeps the upstream value', async () => {
    const r = await call(`${s.gw.url}/exact`, { headers: { origin: 'https://app.example.com' } })
    assert.equal(r.status, 200)
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.equal(r.headers['access-control-allow-credentials'], 'true')
    assert.equal(r.headers['access-control-expose-headers'], 'X-Total,X-Page')
    assert.equal(r.headers.vary, 'Accept-Encoding, Origin')
    assert.equal(r.headers['access-control-allow-methods'], undefined)
  })

  test('several origins: exact and regex matches are echoed, others get no allow-origin', async () => {
    const ok = await call(`${s.gw.url}/list`, { headers: { origin: 'https://a.example.com:443' } })
    assert.equal(ok.headers['access-control-allow-origin'], 'https://a.example.com')
    assert.equal(ok.headers.vary, 'Accept-Encoding, Origin')
    const regex = await call(`${s.gw.url}/list`, { headers: { origin: 'http://dev.example.org:8080' } })
    assert.equal(regex.headers['access-control-allow-origin'], 'http://dev.example.org:8080')
    const no = await call(`${s.gw.url}/list`, { headers: { origin: 'https://dev.example.org.evil.com' } })
    assert.equal(no.status, 200)
    assert.equal(no.headers['access-control-allow-origin'], undefined)
    assert.equal(no.headers.vary, 'Accept-Encoding, Origin')
    const pre = await call(`${s.gw.url}/list`, {
      method: 'OPTIONS',
      headers: { ...PREFLIGHT, origin: 'https://www.example.org' },
    })
    assert.equal(pre.headers['access-control-allow-origin'], 'https://www.example.org')
  })

  test('credentials with * echo the request origin', async () => {
    const r = await call(`${s.gw.url}/creds-any`, { headers: { origin: 'https://x.test' } })
    assert.equal(r.headers['access-control-allow-origin'], 'https://x.test')
    assert.equal(r.headers['access-control-allow-credentials'], 'true')
    assert.equal(r.headers.vary, 'Accept-Encoding, Origin')
  })

  test('preflight_continue sends the preflight upstream untouched', async () => {
    const before = s.up.seen.length
    const r = await call(`${s.gw.url}/continue`, { method: 'OPTIONS', headers: PREFLIGHT })
    assert.equal(r.status, 204)
    assert.equal(r.headers['x-upstream-options'], 'yes')
    assert.equal(r.headers['access-control-allow-origin'], undefined)
    assert.equal(s.up.seen.length, before + 1)
    assert.equal(s.up.seen.at(-1)!.method, 'OPTIONS')
  })

  test('allow_origin_absent: false leaves requests without Origin alone', async () => {
    const r = await call(`${s.gw.url}/strict-origin`)
    assert.equal(r.headers['access-control-allow-origin'], undefined)
    assert.equal(r.headers.vary, 'Accept-Encoding')
    const o = await call(`${s.gw.url}/strict-origin`, { headers: { origin: 'https://app.example.com' } })
    assert.equal(o.headers['access-control-allow-origin'], 'https://app.example.com')
  })

  test('requests without Origin still get the headers by default', async () => {
    const r = await call(`${s.gw.url}/any`)
    assert.equal(r.headers['access-control-allow-origin'], '*')
  })

  test('an OPTIONS without Access-Control-Request-Method is proxied', async () => {
    const r = await call(`${s.gw.url}/any`, { method: 'OPTIONS', headers: { origin: 'https://x.test' } })
    assert.equal(r.status, 204)
    assert.equal(r.headers['x-upstream-options'], 'yes')
    assert.equal(r.headers['access-control-allow-origin'], '*')
  })

  test('a route that does not accept OPTIONS never sees the preflight', async () => {
    const r = await call(`${s.gw.url}/get-only`, { method: 'OPTIONS', headers: PREFLIGHT })
    assert.equal(r.status, 404)
  })

  test('plugin replies carry the CORS headers too', async () => {
    const r = await call(`${s.gw.url}/denied`, { headers: { origin: 'https://x.test' } })
    assert.equal(r.status, 401)
    assert.equal(r.headers['access-control-allow-origin'], '*')
  })
})

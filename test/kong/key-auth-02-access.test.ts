// Port of Kong 3.10 spec/03-plugins/09-key-auth/02-access_spec.lua: each case carries the name
// of the Kong `it(...)` it transcribes. Skips name the section of docs/kong-compatibility.md.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { encodeBody, kongEcho, send } from '../fixtures/kong-echo.js'

const ANON_MISSING = '9a1b2c3d-0000-4000-8000-000000000004'
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (host: string, path: string, headers: Record<string, string | string[]> = {}, extra = {}) =>
  send(`${gw.url}${path}`, { headers: { host, ...headers }, ...extra })

const route = (n: number, config = '{}') =>
  `  - { name: r${n}, service: s, hosts: [key-auth${n}.test], plugins: [{ name: key-auth, config: ${config} }] }`

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
consumers:
  - { username: no-body, id: 6f6c8d7e-0000-4000-8000-000000000001 }
  - username: bob
    keyauth_credentials: [{ key: kong, id: 6f6c8d7e-0000-4000-8000-0000000000c1 }]
routes:
${route(1)}
${route(2, '{ hide_credentials: true, realm: test-realm }')}
${route(3, '{ anonymous: 6f6c8d7e-0000-4000-8000-000000000001 }')}
${route(4, `{ anonymous: ${ANON_MISSING} }`)}
${route(5, '{ key_in_body: true }')}
${route(6, '{ key_in_body: true, hide_credentials: true }')}
${route(7, '{ run_on_preflight: false }')}
${route(8, '{ key_names: [api_key] }')}
${route(9, '{ key_names: [api-key] }')}
${route(10, '{ anonymous: no-body }')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

describe('Plugin: key-auth (access) — Unauthorized', () => {
  it('returns 200 on OPTIONS requests if run_on_preflight is false', async () => {
    assert.equal((await get('key-auth7.test', '/status/200', {}, { method: 'OPTIONS' })).status, 200)
  })
  it('returns Unauthorized on OPTIONS requests if run_on_preflight is true', async () => {
    const res = await get('key-auth1.test', '/status/200', {}, { method: 'OPTIONS' })
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /No API key found in request/)
  })
  it('returns Unauthorized on missing credentials', async () => {
    const res = await get('key-auth1.test', '/status/200')
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /No API key found in request/)
  })
  it('returns Unauthorized on empty key header', async () => {
    const res = await get('key-auth1.test', '/status/200', { apikey: '' })
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /No API key found in request/)
  })
  it('returns Unauthorized on empty key header with no realm', async () => {
    const res = await get('key-auth1.test', '/status/200', { apikey: '' })
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Key')
  })
  it('returns Unauthorized on empty key header with conifgured realm', async () => {
    const res = await get('key-auth2.test', '/status/200', { apikey: '' })
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /No API key found in request/)
    assert.equal(res.headers['www-authenticate'], 'Key realm="test-realm"')
  })
  it('returns Unauthorized on empty key querystring', async () => {
    const res = await get('key-auth1.test', '/status/200?apikey')
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /No API key found in request/)
  })
  it('returns WWW-Authenticate header on missing credentials', async () => {
    const res = await get('key-auth1.test', '/status/200')
    assert.ok(String(res.headers['www-authenticate']).startsWith('Key'))
  })
})

describe('Plugin: key-auth (access) — key in querystring', () => {
  it('authenticates valid credentials', async () => {
    assert.equal((await get('key-auth1.test', '/request?apikey=kong')).status, 200)
  })
  it('returns 401 Unauthorized on invalid key', async () => {
    const res = await get('key-auth1.test', '/status/200?apikey=123')
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Unauthorized/)
  })
  it('handles duplicated key in querystring', async () => {
    const res = await get('key-auth1.test', '/status/200?apikey=kong&apikey=kong')
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Duplicate API key found/)
  })
})

for (const type of ['application/x-www-form-urlencoded', 'application/json', 'multipart/form-data']) {
  describe(`Plugin: key-auth (access) — key in request body — ${type}`, () => {
    const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) => {
      const { body, type: ct } = encodeBody(type, fields)
      return get('key-auth5.test', path, { 'content-type': ct, ...headers }, { method: 'POST', body })
    }
    it('authenticates valid credentials', async () => {
      assert.equal((await post('/request', { apikey: 'kong' })).status, 200)
    })
    it('authenticates valid credentials in query', async () => {
      assert.equal((await post('/request?apikey=kong', { non_apikey: 'kong' })).status, 200)
    })
    it('authenticates valid credentials in header', async () => {
      assert.equal(
        (await post('/request?apikey=kong', { non_apikey: 'kong' }, { apikey: 'kong' })).status,
        200,
      )
    })
    it('returns 401 Unauthorized on invalid key', async () => {
      const res = await post('/status/200', { apikey: '123' })
      assert.equal(res.status, 401)
      assert.match(String(res.body.message), /Unauthorized/)
    })
    if (type === 'application/json') {
      it('handles duplicated key', async () => {
        const body = JSON.stringify({ apikey: ['kong', 'kong'] })
        const res = await get(
          'key-auth5.test',
          '/status/200',
          { 'content-type': type },
          { method: 'POST', body },
        )
        assert.equal(res.status, 401)
        assert.match(String(res.body.message), /Duplicate API key found/)
      })
    }
    if (type === 'application/x-www-form-urlencoded') {
      const form = (body: string) =>
        get('key-auth5.test', '/status/200', { 'content-type': type }, { method: 'POST', body })
      it('handles duplicated key', async () => {
        const res = await form('apikey=kong&apikey=kong')
        assert.equal(res.status, 401)
        assert.match(String(res.body.message), /Duplicate API key found/)
      })
      it('does not identify apikey[] as api keys', async () => {
        const res = await form('apikey[]=kong&apikey[]=kong')
        assert.equal(res.status, 401)
        assert.match(String(res.body.message), /No API key found in request/)
      })
      it('does not identify apikey[1] as api keys', async () => {
        const res = await form('apikey[1]=kong&apikey[1]=kong')
        assert.equal(res.status, 401)
        assert.match(String(res.body.message), /No API key found in request/)
      })
    }
  })
}

describe('Plugin: key-auth (access) — key in headers', () => {
  it('authenticates valid credentials', async () => {
    assert.equal((await get('key-auth1.test', '/request', { apikey: 'kong' })).status, 200)
  })
  it('returns 401 Unauthorized on invalid key', async () => {
    const res = await get('key-auth1.test', '/status/200', { apikey: '123' })
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Unauthorized/)
  })
})

describe('Plugin: key-auth (access) — underscores or hyphens in key headers', () => {
  it('authenticates valid credentials', async () => {
    assert.equal((await get('key-auth8.test', '/request', { 'api-key': 'kong' })).status, 200)
    assert.equal((await get('key-auth9.test', '/request', { 'api-key': 'kong' })).status, 200)
  })
  it('authenticates valid credentials (api_key header)', {
    skip: 'underscore headers are dropped: docs/kong-compatibility.md "Headers with underscores"',
  }, async () => {
    assert.equal((await get('key-auth8.test', '/request', { api_key: 'kong' })).status, 200)
  })
  it('returns 401 Unauthorized on invalid key', async () => {
    const res = await get('key-auth8.test', '/status/200', { 'api-key': '123' })
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Unauthorized/)
  })
})

describe('Plugin: key-auth (access) — Consumer headers', () => {
  it('sends Consumer headers to upstream', async () => {
    const res = await get('key-auth1.test', '/request?apikey=kong')
    assert.equal(res.status, 200)
    const h = res.body.headers as Record<string, string>
    assert.equal(typeof h['x-consumer-id'], 'string')
    assert.equal(h['x-consumer-username'], 'bob')
    assert.equal(h['x-credential-identifier'], '6f6c8d7e-0000-4000-8000-0000000000c1')
    assert.equal(h['x-anonymous-consumer'], undefined)
  })
})

describe('Plugin: key-auth (access) — config.hide_credentials', () => {
  for (const [host, hidden] of [
    ['key-auth1.test', false],
    ['key-auth2.test', true],
  ] as const) {
    const name = hidden ? "true doesn't send key to upstream" : 'false sends key to upstream'
    it(`(uri_args) ${name}`, async () => {
      const res = await get(host, '/request?apikey=kong')
      assert.equal((res.body.uri_args as Record<string, string>).apikey, hidden ? undefined : 'kong')
    })
    it(`(headers) ${name}`, async () => {
      const res = await get(host, '/request', { apikey: 'kong' })
      assert.equal((res.body.headers as Record<string, string>).apikey, hidden ? undefined : 'kong')
    })
  }
  for (const type of ['application/x-www-form-urlencoded', 'application/json', 'multipart/form-data']) {
    for (const [host, hidden] of [
      ['key-auth5.test', false],
      ['key-auth6.test', true],
    ] as const) {
      const name = hidden ? "true doesn't send key to upstream" : 'false sends key to upstream'
      it(`(${type}) ${name}`, async () => {
        const { body, type: ct } = encodeBody(type, { apikey: 'kong' })
        const res = await get(host, '/request', { 'content-type': ct }, { method: 'POST', body })
        assert.equal(res.status, 200)
        const params = (res.body.post_data as { params: Record<string, string> }).params
        assert.equal(params.apikey, hidden ? undefined : 'kong')
      })
    }
    it(`(${type}) true preserves body MIME type`, async () => {
      const { body, type: ct } = encodeBody(type, { apikey: 'kong', foo: 'bar' })
      const res = await get('key-auth6.test', '/request', { 'content-type': ct }, { method: 'POST', body })
      assert.equal(res.status, 200)
      assert.equal((res.body.post_data as { params: Record<string, string> }).params.foo, 'bar')
    })
  }
  it("fails with 'key_in_body' and unsupported content type", async () => {
    const res = await get(
      'key-auth6.test',
      '/status/200',
      { 'content-type': 'text/plain' },
      { method: 'POST', body: 'foobar' },
    )
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /No API key found in request/)
  })
  it('does not remove apikey and preserves order of query parameters', async () => {
    const res = await get('key-auth1.test', '/request?c=value1&b=value2&apikey=kong&a=value3')
    assert.equal(
      (res.body.vars as { request_uri: string }).request_uri,
      '/request?c=value1&b=value2&apikey=kong&a=value3',
    )
  })
  it('removes apikey and preserves order of query parameters', async () => {
    const res = await get('key-auth2.test', '/request?c=value1&b=value2&apikey=kong&a=value3')
    assert.equal(
      (res.body.vars as { request_uri: string }).request_uri,
      '/request?c=value1&b=value2&a=value3',
    )
  })
  it('removes apikey in encoded query and preserves order of query parameters', async () => {
    const res = await get('key-auth2.test', '/request?c=valu%651&b=value2&api%6B%65%79=kong&a=valu%653')
    assert.equal(
      (res.body.vars as { request_uri: string }).request_uri,
      '/request?c=value1&b=value2&a=value3',
    )
  })
})

describe('Plugin: key-auth (access) — config.anonymous', () => {
  it('works with right credentials and anonymous', async () => {
    const h = (await get('key-auth3.test', '/request?apikey=kong')).body.headers as Record<string, string>
    assert.equal(h['x-consumer-username'], 'bob')
    assert.equal(h['x-credential-identifier'], '6f6c8d7e-0000-4000-8000-0000000000c1')
    assert.equal(h['x-anonymous-consumer'], undefined)
  })
  it('works with wrong credentials and anonymous', async () => {
    const res = await get('key-auth3.test', '/request')
    assert.equal(res.status, 200)
    const h = res.body.headers as Record<string, string>
    assert.equal(h['x-anonymous-consumer'], 'true')
    assert.equal(h['x-credential-identifier'], undefined)
    assert.equal(h['x-consumer-username'], 'no-body')
  })
  it('works with wrong credentials and username as anonymous', async () => {
    const h = (await get('key-auth10.test', '/request')).body.headers as Record<string, string>
    assert.equal(h['x-anonymous-consumer'], 'true')
    assert.equal(h['x-consumer-username'], 'no-body')
  })
  it("errors when anonymous user doesn't exist", async () => {
    const res = await get('key-auth4.test', '/request')
    assert.equal(res.status, 500)
    assert.equal(res.body.message, `anonymous consumer ${ANON_MISSING} is configured but doesn't exist`)
  })
})

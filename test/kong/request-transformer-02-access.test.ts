// Port of Kong 3.10 spec/03-plugins/36-request-transformer/02-access_spec.lua, its "http method",
// "remove", "rename", "replace", "add" and "append" blocks: each case carries the name of the
// Kong `it(...)` it transcribes. Kong's `assert.request(r)` reads the mock upstream's echo:
// `header(h)` is `headers_distinct` (a repeated header is a list, as in Kong's mock),
// `formparam`/`jsonbody` are `post_data`, `queryparam` is `uri_args`. Kong's `rename.mock`
// (an http_mock that keeps header case) is the echo's `raw_headers`.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, multipart, send } from '../fixtures/kong-echo.js'

type Json = Record<string, unknown>
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>

before(async () => {
  echo = await kongEcho()
  const rt = (route: string, config: string) =>
    `  - { route: ${route}, name: request-transformer, config: ${config} }`
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
routes:
  - { name: r1, service: s, hosts: [test1.test] }
  - { name: r2, service: s, hosts: [test2.test], preserve_host: true }
  - { name: r4, service: s, hosts: [test4.test] }
  - { name: r5, service: s, hosts: [test5.test] }
  - { name: r6, service: s, hosts: [test6.test] }
  - { name: r7, service: s, hosts: [test7.test] }
  - { name: r8, service: s, hosts: [test8.test] }
  - { name: r9, service: s, hosts: [test9.test] }
  - { name: r20, service: s, hosts: [test20.test] }
  - { name: r29, service: s, hosts: [test29.test], paths: ["~/(gw/)?api/(?<subpath>htest)$"], strip_path: false }
  - { name: hash, service: s, hosts: [test_append_hash.test] }
  - { name: rename, service: s, hosts: [rename.mock] }
plugins:
${rt('r1', '{ add: { headers: ["h1:v1", "h2:value:2"], querystring: ["q1:v1"], body: ["p1:v1"] } }')}
${rt('r2', '{ add: { headers: ["host:mark"] } }')}
${rt('r4', '{ remove: { headers: [x-to-remove], querystring: [q1], body: [toremoveform] } }')}
${rt('r5', '{ replace: { headers: ["h1:v1"], querystring: ["q1:v1"], body: ["p1:v1"] } }')}
${rt('r6', '{ append: { headers: ["h1:v1", "h1:v2", "h2:v1"], querystring: ["q1:v1", "q1:v2", "q2:v1"], body: ["p1:v1", "p1:v2", "p2:value:1"] } }')}
${rt('r7', '{ http_method: POST }')}
${rt('r8', '{ http_method: GET }')}
${rt('r9', '{ rename: { headers: ["x-to-rename:x-is-renamed"], querystring: ["originalparam:renamedparam"], body: ["originalparam:renamedparam"] } }')}
${rt('r20', '{ http_method: POST, add: { headers: ["Content-Type:application/json"], body: ["body:somecontent"] } }')}
${rt('r29', `{ replace: { uri: '/api/v2/$(uri_captures["subpath"])' } }`)}
${rt('hash', '{ append: { headers: ["h1:v1", "h1:v2", "h1:#value_with_hash", "h2:v1"], querystring: ["q1:v1", "q1:v2", "q2:v1"], body: ["p1:v1", "p1:v2", "p2:value:1"] } }')}
${rt('rename', '{ rename: { headers: ["rename:Rename", "identical:identical"], querystring: ["inexist:exist"] } }')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

/** One proxy request; `form`/`json`/`multipart` encode a body with that content type. */
async function req(
  host: string,
  opts: {
    method?: string
    path?: string
    headers?: Record<string, string>
    form?: Record<string, string>
    json?: Json
    multipart?: Record<string, string>
    body?: string
  } = {},
) {
  const headers: Record<string, string> = { host, ...opts.headers }
  let body = opts.body
  if (opts.form !== undefined) {
    body = new URLSearchParams(opts.form).toString()
    headers['content-type'] ??= 'application/x-www-form-urlencoded'
  } else if (opts.json !== undefined) {
    body = JSON.stringify(opts.json)
    headers['content-type'] ??= 'application/json'
  } else if (opts.multipart !== undefined) {
    const m = multipart(opts.multipart)
    body = m.body
    headers['content-type'] = m.type
  }
  const res = await send(`${gw.url}${opts.path ?? '/request'}`, {
    method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  })
  assert.ok(res.text.startsWith('{'), `a JSON echo: ${res.status} ${res.text.slice(0, 200)}`)
  const echoed = res.body as {
    headers: Record<string, string>
    headers_distinct: Record<string, string[]>
    raw_headers: string[]
    uri_args: Record<string, string | string[]>
    post_data: { params: Json | null; kind?: string; error?: string; text: string }
    vars: { request_method: string; request_uri: string }
  }
  const one = (v: string[] | undefined) => (v === undefined ? undefined : v.length === 1 ? v[0] : v)
  return {
    status: res.status,
    json: echoed,
    header: (h: string) => one(echoed.headers_distinct[h.toLowerCase()]),
    form: (k: string) => echoed.post_data.params?.[k],
    query: (k: string) => echoed.uri_args[k],
  }
}

describe('Plugin: request-transformer(access) http method', () => {
  it('changes the HTTP method from GET to POST', async () => {
    const r = await req('test7.test', { path: '/request?hello=world&name=marco' })
    assert.equal(r.status, 200)
    assert.equal(r.json.vars.request_method, 'POST')
    assert.equal(r.query('hello'), 'world')
    assert.equal(r.query('name'), 'marco')
  })
  it('changes the HTTP method from POST to GET', async () => {
    const r = await req('test8.test', { path: '/request?hello=world', form: { name: 'marco' } })
    assert.equal(r.status, 200)
    assert.equal(r.json.vars.request_method, 'GET')
    assert.equal(r.query('hello'), 'world')
    assert.equal(r.query('name'), 'marco')
  })
  it('changes the HTTP method from GET to POST and adds JSON body', async () => {
    const r = await req('test20.test')
    assert.equal(r.status, 200)
    assert.equal(r.json.post_data.kind, 'json')
    assert.equal(r.json.vars.request_method, 'POST')
    assert.equal(r.json.post_data.error, undefined)
    assert.equal(r.header('content-type'), 'application/json')
  })
})

describe('Plugin: request-transformer(access) remove', () => {
  it('specified header', async () => {
    const r = await req('test4.test', { headers: { 'x-to-remove': 'true', 'x-another-header': 'true' } })
    assert.equal(r.header('x-to-remove'), undefined)
    assert.equal(r.header('x-another-header'), 'true')
  })
  it('parameters on url encoded form POST', async () => {
    const r = await req('test4.test', { form: { toremoveform: 'yes', nottoremove: 'yes' } })
    assert.equal(r.form('toremoveform'), undefined)
    assert.equal(r.form('nottoremove'), 'yes')
  })
  it('parameters from JSON body in POST', async () => {
    const r = await req('test4.test', { json: { toremoveform: 'yes', nottoremove: 'yes' } })
    assert.equal(r.form('toremoveform'), undefined)
    assert.equal(r.form('nottoremove'), 'yes')
  })
  it('does not fail if JSON body is malformed in POST', async () => {
    const r = await req('test4.test', {
      body: 'malformed json body',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.status, 200)
    assert.equal(r.json.post_data.kind, 'json (error)')
    assert.notEqual(r.json.post_data.error, undefined)
  })
  it('does not fail if body is empty and content type is application/json in POST', async () => {
    const r = await req('test4.test', { json: {} })
    assert.equal(r.status, 200)
    assert.equal(r.json.post_data.text, '{}')
    assert.equal(r.json.headers['content-length'], '2')
  })
  it('does not fail if body is empty in POST', async () => {
    const r = await req('test4.test', { method: 'POST', body: '' })
    assert.equal(r.status, 200)
    assert.equal(r.json.post_data.params, null)
    assert.equal(r.json.post_data.text, '')
    assert.equal(r.header('content-length'), '0')
  })
  it('parameters on multipart POST', async () => {
    const r = await req('test4.test', { multipart: { toremoveform: 'yes', nottoremove: 'yes' } })
    assert.equal(r.form('toremoveform'), undefined)
    assert.equal(r.form('nottoremove'), 'yes')
  })
  it('args on GET if it exist', async () => {
    const r = await req('test4.test', {
      method: 'GET',
      path: '/request?q1=v1&q2=v2',
      form: { hello: 'world' },
    })
    assert.equal(r.query('q1'), undefined)
    assert.equal(r.query('q2'), 'v2')
  })
  it('preserves empty json array', async () => {
    const r = await req('test4.test', {
      body: '{"emptyarray":[]}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.json.post_data.text, '{"emptyarray":[]}')
  })
})

describe('Plugin: request-transformer(access) rename', () => {
  it('specified header', async () => {
    const r = await req('test9.test', { headers: { 'x-to-rename': 'true', 'x-another-header': 'true' } })
    assert.equal(r.header('x-to-rename'), undefined)
    assert.notEqual(r.header('x-is-renamed'), undefined)
    assert.notEqual(r.header('x-another-header'), undefined)
  })
  it('does not add as new header if header does not exist', async () => {
    const r = await req('test9.test', { method: 'GET', json: {}, headers: { 'x-a-header': 'true' } })
    assert.equal(r.header('renamedparam'), undefined)
    assert.equal(r.header('x-a-header'), 'true')
  })
  it('override value if target header already exist: #%s', async () => {
    const r = await req('test9.test', {
      headers: { 'x-to-rename': 'new-result', 'x-is-renamed': 'old-result' },
    })
    assert.equal(r.header('x-to-rename'), undefined)
    assert.equal(r.header('x-is-renamed'), 'new-result')
  })
  for (const seq of [1, 2, 3, 4, 5, 6])
    it(`override value if target header already exist with different format: #${seq}`, async () => {
      const r = await req('test9.test', {
        headers: { 'x-to-rename': 'new-result', 'X-Is-Renamed': 'old-result' },
      })
      assert.equal(r.header('x-to-rename'), undefined)
      assert.equal(r.header('x-is-renamed'), 'new-result')
    })
  it('specified parameters in url encoded body on POST', async () => {
    const r = await req('test9.test', { form: { originalparam: 'yes' } })
    assert.equal(r.form('originalparam'), undefined)
    assert.equal(r.form('renamedparam'), 'yes')
  })
  it('does not add as new parameter in url encoded body if parameter does not exist on POST', async () => {
    const r = await req('test9.test', { form: { 'x-a-header': 'true' } })
    assert.equal(r.form('renamedparam'), undefined)
    assert.equal(r.form('x-a-header'), 'true')
  })
  it('parameters from JSON body in POST', async () => {
    const r = await req('test9.test', { json: { originalparam: 'yes', nottorename: 'yes' } })
    assert.equal(r.form('originalparam'), undefined)
    assert.equal(r.form('renamedparam'), 'yes')
    assert.equal(r.form('nottorename'), 'yes')
  })
  it('does not fail if JSON body is malformed in POST', async () => {
    const r = await req('test9.test', {
      body: 'malformed json body',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.json.post_data.kind, 'json (error)')
    assert.notEqual(r.json.post_data.error, undefined)
  })
  it('parameters on multipart POST', async () => {
    const r = await req('test9.test', { multipart: { originalparam: 'yes', nottorename: 'yes' } })
    assert.equal(r.form('originalparam'), undefined)
    assert.equal(r.form('renamedparam'), 'yes')
    assert.equal(r.form('nottorename'), 'yes')
  })
  it('args on GET if it exists', async () => {
    const r = await req('test9.test', {
      path: '/request?originalparam=true&nottorename=true',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(r.query('originalparam'), undefined)
    assert.equal(r.query('renamedparam'), 'true')
    assert.equal(r.query('nottorename'), 'true')
  })
  it('preserves empty json array', async () => {
    const r = await req('test9.test', {
      body: '{"emptyarray":[]}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.json.post_data.text, '{"emptyarray":[]}')
  })
  it('rename correctly when only changing capitalization', async () => {
    const r = await req('rename.mock', { headers: { rename: 'true' } })
    assert.equal(r.status, 200)
    const raw = r.json.raw_headers
    const i = raw.indexOf('Rename')
    assert.ok(i >= 0 && i % 2 === 0, `Rename sent with its case: ${raw}`)
    assert.equal(raw[i + 1], 'true')
    assert.ok(!raw.some((h, j) => j % 2 === 0 && h === 'rename'))
  })
  it('does not override existing value with nil', async () => {
    const r = await req('rename.mock', { path: '/request?exist=true' })
    assert.equal(r.json.vars.request_uri, '/request?exist=true')
  })
  it('does not remove when renaming to the identical name', async () => {
    const r = await req('rename.mock', { headers: { identical: 'true' } })
    assert.equal(r.header('identical'), 'true')
  })
})

describe('Plugin: request-transformer(access) replace', () => {
  it('specified header if it exist', async () => {
    const r = await req('test5.test', { method: 'GET', json: {}, headers: { h1: 'V', h2: 'v2' } })
    assert.equal(r.header('h1'), 'v1')
    assert.equal(r.header('h2'), 'v2')
  })
  it('does not add as new header if header does not exist', async () => {
    const r = await req('test5.test', { method: 'GET', json: {}, headers: { h2: 'v2' } })
    assert.equal(r.header('h1'), undefined)
    assert.equal(r.header('h2'), 'v2')
  })
  it('specified parameters in url encoded body on POST', async () => {
    const r = await req('test5.test', { form: { p1: 'v', p2: 'v1' } })
    assert.equal(r.form('p1'), 'v1')
    assert.equal(r.form('p2'), 'v1')
  })
  it('does not add as new parameter in url encoded body if parameter does not exist on POST', async () => {
    const r = await req('test5.test', { form: { p2: 'v1' } })
    assert.equal(r.form('p1'), undefined)
    assert.equal(r.form('p2'), 'v1')
  })
  it('specified parameters in json body on POST', async () => {
    const r = await req('test5.test', { json: { p1: 'v', p2: 'v1' } })
    assert.equal(r.form('p1'), 'v1')
    assert.equal(r.form('p2'), 'v1')
  })
  it('does not fail if JSON body is malformed in POST', async () => {
    const r = await req('test5.test', {
      body: 'malformed json body',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.json.post_data.kind, 'json (error)')
    assert.notEqual(r.json.post_data.error, undefined)
  })
  it('does not add as new parameter in json if parameter does not exist on POST', async () => {
    const r = await req('test5.test', { json: { p2: 'v1' } })
    assert.equal(r.form('p1'), undefined)
    assert.equal(r.form('p2'), 'v1')
  })
  it('specified parameters on multipart POST', async () => {
    const r = await req('test5.test', { multipart: { p1: 'v', p2: 'v1' } })
    assert.equal(r.form('p1'), 'v1')
    assert.equal(r.form('p2'), 'v1')
  })
  it('does not add as new parameter if parameter does not exist on multipart POST', async () => {
    const r = await req('test5.test', { multipart: { p2: 'v1' } })
    assert.equal(r.form('p1'), undefined)
    assert.equal(r.form('p2'), 'v1')
  })
  it('args on POST if it exist', async () => {
    const r = await req('test5.test', { path: '/request?q1=v&q2=v2', form: { hello: 'world' } })
    assert.equal(r.query('q1'), 'v1')
    assert.equal(r.query('q2'), 'v2')
  })
  it('does not add new args on POST if it does not exist', async () => {
    const r = await req('test5.test', { path: '/request?q2=v2', form: { hello: 'world' } })
    assert.equal(r.query('q1'), undefined)
    assert.equal(r.query('q2'), 'v2')
  })
  it('preserves empty json array', async () => {
    const r = await req('test5.test', {
      body: '{"emptyarray":[], "p1":"v"}',
      headers: { 'content-type': 'application/json' },
    })
    assert.ok(r.json.post_data.text.includes('"emptyarray":[]'), r.json.post_data.text)
  })
  it('replaces request uri with optional capture prefix', async () => {
    const r = await req('test29.test', { path: '/api/htest' })
    // Kong's mock has no /api/v2 location (its 404); the echo answers every path: 200
    assert.equal(r.status, 200)
    assert.equal(r.json.vars.request_uri, '/api/v2/htest')
  })
  it('replaces request uri with the capature prefix', async () => {
    const r = await req('test29.test', { path: '/gw/api/htest' })
    // Kong's mock has no /api/v2 location (its 404); the echo answers every path: 200
    assert.equal(r.status, 200)
    assert.equal(r.json.vars.request_uri, '/api/v2/htest')
  })
})

describe('Plugin: request-transformer(access) add', () => {
  it('new headers', async () => {
    const r = await req('test1.test')
    assert.equal(r.header('h1'), 'v1')
    assert.equal(r.header('h2'), 'value:2')
  })
  it('does not change or append value if header already exists', async () => {
    const r = await req('test1.test', { headers: { h1: 'v3' } })
    assert.equal(r.header('h1'), 'v3')
    assert.equal(r.header('h2'), 'value:2')
  })
  it('new parameter in url encoded body on POST', async () => {
    const r = await req('test1.test', { form: { hello: 'world' } })
    assert.equal(r.form('hello'), 'world')
    assert.equal(r.form('p1'), 'v1')
  })
  it('does not change or append value to parameter in url encoded body on POST when parameter exists', async () => {
    const r = await req('test1.test', { form: { p1: 'should not change', hello: 'world' } })
    assert.equal(r.form('p1'), 'should not change')
    assert.equal(r.form('hello'), 'world')
  })
  it('new parameter in JSON body on POST', async () => {
    const r = await req('test1.test', { json: { hello: 'world' } })
    assert.equal(r.form('hello'), 'world')
    assert.equal(r.form('p1'), 'v1')
  })
  it('does not change or append value to parameter in JSON on POST when parameter exists', async () => {
    const r = await req('test1.test', { json: { p1: 'this should not change', hello: 'world' } })
    assert.equal(r.form('hello'), 'world')
    assert.equal(r.form('p1'), 'this should not change')
  })
  it('does not fail if JSON body is malformed in POST', async () => {
    const r = await req('test1.test', {
      body: 'malformed json body',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.json.post_data.kind, 'json (error)')
    assert.notEqual(r.json.post_data.error, undefined)
  })
  it('new parameter on multipart POST', async () => {
    const r = await req('test1.test', { multipart: {} })
    assert.equal(r.form('p1'), 'v1')
  })
  it('does not change or append value to parameter on multipart POST when parameter exists', async () => {
    const r = await req('test1.test', { multipart: { p1: 'this should not change', hello: 'world' } })
    assert.equal(r.form('p1'), 'this should not change')
    assert.equal(r.form('hello'), 'world')
  })
  it('new querystring on GET', async () => {
    const r = await req('test1.test', {
      path: '/request?q2=v2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(r.query('q2'), 'v2')
    assert.equal(r.query('q1'), 'v1')
  })
  it('does not change or append value to querystring on GET if querystring exists', async () => {
    const r = await req('test1.test', {
      path: '/request?q1=v2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(r.query('q1'), 'v2')
  })
  it('should not change the host header', async () => {
    const r = await req('test2.test', { path: '/get', headers: { 'content-type': 'application/json' } })
    assert.equal(r.status, 200)
    assert.equal(r.json.headers.host, 'test2.test')
  })
  it('preserves empty json array', async () => {
    const r = await req('test1.test', {
      body: '{"emptyarray":[]}',
      headers: { 'content-type': 'application/json' },
    })
    assert.ok(r.json.post_data.text.includes('"emptyarray":[]'), r.json.post_data.text)
  })
})

describe('Plugin: request-transformer(access) append', () => {
  it('new header if header does not exists', async () => {
    const r = await req('test6.test')
    assert.equal(r.header('h2'), 'v1')
  })
  it('values to existing headers', async () => {
    const r = await req('test6.test')
    assert.deepEqual(r.header('h1'), ['v1', 'v2'])
  })
  it("can append a value with '#' (regression test for #29)", async () => {
    const r = await req('test_append_hash.test')
    assert.deepEqual(r.header('h1'), ['v1', 'v2', '#value_with_hash'])
  })
  it('new querystring if querystring does not exists', async () => {
    const r = await req('test6.test', { form: { hello: 'world' } })
    assert.equal(r.query('q2'), 'v1')
  })
  it('values to existing querystring', async () => {
    const r = await req('test6.test', { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    assert.deepEqual(r.query('q1'), ['v1', 'v2'])
  })
  it('new parameter in url encoded body on POST if it does not exist', async () => {
    const r = await req('test6.test', { method: 'POST', form: {} })
    assert.deepEqual(r.form('p1'), ['v1', 'v2'])
    assert.equal(r.form('p2'), 'value:1')
  })
  it('values to existing parameter in url encoded body if parameter already exist on POST', async () => {
    const r = await req('test6.test', { form: { p1: 'v0' } })
    assert.deepEqual(r.form('p1'), ['v0', 'v1', 'v2'])
    assert.equal(r.form('p2'), 'value:1')
  })
  it('does not fail if JSON body is malformed in POST', async () => {
    const r = await req('test6.test', {
      body: 'malformed json body',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.json.post_data.kind, 'json (error)')
    assert.notEqual(r.json.post_data.error, undefined)
  })
  it('does not change or append value to parameter on multipart POST', async () => {
    const r = await req('test6.test', { multipart: { p1: 'This should not change' } })
    assert.equal(r.form('p1'), 'This should not change')
  })
  it('preserves empty json array', async () => {
    const r = await req('test6.test', {
      body: '{"emptyarray":[]}',
      headers: { 'content-type': 'application/json' },
    })
    assert.ok(r.json.post_data.text.includes('"emptyarray":[]'), r.json.post_data.text)
  })
})

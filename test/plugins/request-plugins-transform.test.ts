import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call, gateway, raw } from '../fixtures/helpers.js'
import { stack } from '../fixtures/stack.js'

describe('request-transformer', () => {
  const s = stack({
    start: (up) =>
      gateway(`
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}/base
    routes:
      - { name: headers, paths: [/headers] }
      - { name: query, paths: [/query] }
      - { name: body, paths: [/body] }
      - { name: uri, paths: ["~/users/(?<id>\\\\d+)/orders$"] }
      - { name: method, paths: [/method] }
      - { name: host, paths: [/host] }
      - { name: limited, paths: [/limited] }
plugins:
  - name: request-transformer
    route: headers
    config:
      remove: { headers: [x-remove-me, x-absent] }
      rename: { headers: ["x-old:x-new", "x-case:X-Case"] }
      replace: { headers: ["x-replace:replaced", "x-not-there:nope"] }
      add: { headers: ["x-added:added", "x-keep:not-used", "x-from:$(headers.x_source)-$(query_params.q)", "X-Cased:yes"] }
      append: { headers: ["x-multi:two", "x-fresh:one", "X-Appended-Cased:a"] }
  - name: request-transformer
    route: query
    config:
      remove: { querystring: [drop] }
      rename: { querystring: ["old:new"] }
      replace: { querystring: ["page:1"] }
      add: { querystring: ["v:2", "keep:no", "from:$(headers.x_source)"] }
      append: { querystring: ["tag:b"] }
  - name: request-transformer
    route: body
    config:
      remove: { body: [password] }
      rename: { body: ["user:username"] }
      replace: { body: ["role:user"] }
      add: { body: ["source:gateway", "role:nope", "client:$(headers.x_client)"] }
      append: { body: ["tags:new"] }
  - name: request-transformer
    route: uri
    config:
      replace: { uri: "/v2/customers/$(uri_captures.id)/orders" }
  - name: request-transformer
    route: method
    config: { http_method: GET }
  - name: request-transformer
    route: host
    config:
      replace: { headers: ["host:internal.example.com"] }
  - name: request-size-limiting
    route: limited
    config: { allowed_payload_size: 16, size_unit: bytes }
  - name: request-transformer
    route: limited
    config:
      add: { body: ["a:b"] }
`),
  })

  test("headers: remove, rename, replace, add, append in Kong's order, templates from the request", async () => {
    const r = await call(`${s.gw.url}/headers?q=search`, {
      headers: {
        'x-remove-me': '1',
        'x-old': 'value',
        'x-replace': 'orig',
        'x-keep': 'client',
        'x-multi': 'one',
        'x-source': 'src',
        'x-case': 'c',
      },
    })
    assert.equal(r.status, 200)
    const h = s.up.seen.at(-1)!.headers
    assert.equal(h['x-remove-me'], undefined)
    assert.equal(h['x-old'], undefined)
    assert.equal(h['x-new'], 'value')
    assert.equal(h['x-replace'], 'replaced')
    assert.equal(h['x-not-there'], undefined)
    assert.equal(h['x-added'], 'added')
    assert.equal(h['x-keep'], 'client')
    assert.equal(h['x-from'], 'src-search')
    assert.equal(h['x-multi'], 'one, two')
    assert.equal(h['x-fresh'], 'one')
    assert.equal(h['x-source'], 'src')
    // names the config spells with capitals reach the upstream so (as in Kong): added,
    // appended, and a rename that changes only the case
    const names = s.up.seen.at(-1)!.rawHeaders.filter((_, i) => i % 2 === 0)
    for (const name of ['X-Cased', 'X-Appended-Cased', 'X-Case'])
      assert.ok(names.includes(name), `${name}: ${names}`)
    assert.ok(!names.includes('x-case'))
  })

  test('query: remove, rename, replace, add, append; templates read the original request', async () => {
    await call(`${s.gw.url}/query?drop=1&old=o&page=7&keep=yes&tag=a`, { headers: { 'x-source': 'h' } })
    const url = new URL(s.up.seen.at(-1)!.url, 'http://x')
    assert.equal(url.pathname, '/base')
    assert.deepEqual(
      [...url.searchParams],
      [
        ['page', '1'],
        ['keep', 'yes'],
        ['tag', 'a'],
        ['tag', 'b'],
        ['new', 'o'],
        ['v', '2'],
        ['from', 'h'],
      ],
    )
  })

  test('a query without the configured names gets only add and append', async () => {
    await call(`${s.gw.url}/query`)
    assert.equal(s.up.seen.at(-1)!.url, '/base?v=2&keep=no&from=&tag=b')
  })

  test('JSON body: remove, rename, replace, add, append; Content-Length follows', async () => {
    const r = await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client': 'web' },
      body: JSON.stringify({ user: 'ann', password: 'secret', role: 'admin', tags: 'old' }),
    })
    assert.equal(r.status, 200)
    const seen = s.up.seen.at(-1)!
    assert.deepEqual(JSON.parse(seen.body.toString()), {
      username: 'ann',
      role: 'user',
      tags: ['old', 'new'],
      source: 'gateway',
      client: 'web',
    })
    assert.equal(seen.headers['content-length'], String(seen.body.length))
  })

  test('a chunked JSON body is read, transformed and sent with a Content-Length', async () => {
    const doc = '{"password":"x","keep":1}'
    const out = await raw(
      s.gw.proxy.port,
      `POST /body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${doc.length.toString(16)}\r\n${doc}\r\n0\r\n\r\n`,
    )
    assert.match(out, /^HTTP\/1\.1 200 /)
    const seen = s.up.seen.at(-1)!
    assert.deepEqual(JSON.parse(seen.body.toString()), {
      keep: 1,
      source: 'gateway',
      role: 'nope',
      client: '',
      tags: ['new'],
    })
    assert.equal(seen.headers['content-length'], String(seen.body.length))
    assert.equal(seen.headers['transfer-encoding'], undefined)
  })

  test('form body: the same operations, encoded back', async () => {
    await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=bob&password=p&role=admin&tags=x',
    })
    const seen = s.up.seen.at(-1)!
    assert.equal(seen.body.toString(), 'role=user&tags=x&tags=new&username=bob&source=gateway&client=')
    assert.equal(seen.headers['content-length'], String(seen.body.length))
  })

  test('multipart body: the same operations, other parts untouched', async () => {
    const form = new FormData()
    form.append('user', 'carl')
    form.append('password', 'pw')
    form.append('upload', new Blob([new Uint8Array([0, 1, 2, 255])]), 'f.bin')
    const req = new Request('http://x/', { method: 'POST', body: form })
    const r = await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': req.headers.get('content-type')! },
      body: Buffer.from(await req.arrayBuffer()),
    })
    assert.equal(r.status, 200)
    const seen = s.up.seen.at(-1)!
    assert.equal(seen.headers['content-length'], String(seen.body.length))
    const parsed = await new Response(seen.body, {
      headers: { 'content-type': seen.headers['content-type']! },
    }).formData()
    const upload = parsed.get('upload') as File
    assert.deepEqual([...new Uint8Array(await upload.arrayBuffer())], [0, 1, 2, 255])
    assert.deepEqual([...parsed.keys()], ['upload', 'username', 'source', 'role', 'client'])
    assert.equal(parsed.get('username'), 'carl')
    assert.equal(parsed.get('password'), null)
  })

  test('a body that is not JSON is passed through as it came', async () => {
    await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'nope{',
    })
    assert.equal(s.up.seen.at(-1)!.body.toString(), 'nope{')
    await call(`${s.gw.url}/body`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'password=x',
    })
    assert.equal(s.up.seen.at(-1)!.body.toString(), 'password=x')
  })

  test('a JSON request without a body gets one from add and append', async () => {
    await call(`${s.gw.url}/body`, { headers: { 'content-type': 'application/json' } })
    const seen = s.up.seen.at(-1)!
    assert.deepEqual(JSON.parse(seen.body.toString()), {
      source: 'gateway',
      role: 'nope',
      client: '',
      tags: ['new'],
    })
  })

  test('replace.uri renders route captures into the whole upstream path', async () => {
    await call(`${s.gw.url}/users/42/orders?x=1`)
    assert.equal(s.up.seen.at(-1)!.url, '/v2/customers/42/orders?x=1')
  })

  test('http_method GET moves a form body into the query', async () => {
    await call(`${s.gw.url}/method?a=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=2&b=3',
    })
    const seen = s.up.seen.at(-1)!
    assert.equal(seen.method, 'GET')
    assert.equal(seen.url, '/base?a=1&a=2&b=3')
    await call(`${s.gw.url}/method`, { method: 'DELETE' })
    assert.equal(s.up.seen.at(-1)!.method, 'GET')
  })

  test('replace.headers can set the upstream Host', async () => {
    await call(`${s.gw.url}/host`)
    const seen = s.up.seen.at(-1)!
    assert.equal(seen.headers.host, 'internal.example.com')
    assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'host').length, 1)
  })

  test('a chunked body read for a transformation respects the size limit (413)', async () => {
    const before = s.up.seen.length
    const doc = '{"aaaaaaaaaa":"bbbbbbbbbbbbbbbbbbbb"}'
    const out = await raw(
      s.gw.proxy.port,
      `POST /limited HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${doc.length.toString(16)}\r\n${doc}\r\n0\r\n\r\n`,
    )
    assert.match(out, /^HTTP\/1\.1 413 /)
    assert.match(out, /"message":"Request size limit exceeded"/)
    assert.equal(s.up.seen.length, before)
  })
})

describe('response-transformer', () => {
  const s = stack({
    respond: (req, res) => {
      if (req.url?.startsWith('/text')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '9' })
        return res.end('{"a":"b"}')
      }
      const body = JSON.stringify({ id: 7, secret: 'x', old: 'o', name: 'n', list: ['a'] })
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        server: 'upstream/1.0',
        'x-old': 'ov',
        'x-replace': 'before',
        'x-keep': 'upstream',
        'x-multi': 'one',
      })
      res.end(req.method === 'HEAD' ? undefined : body)
    },
    start: (up) =>
      gateway(`
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - { name: all, paths: [/json, /text], strip_path: false }
      - { name: headers-only, paths: [/headers-only] }
      - { name: reply, paths: [/reply] }
plugins:
  - name: response-transformer
    route: all
    config:
      remove: { headers: [server], json: [secret] }
      rename: { headers: ["x-old:x-new"], json: ["old:renamed"] }
      replace: { headers: ["x-replace:after", "x-none:no"], json: ["name:N", "absent:no"] }
      add:
        headers: ["x-added:yes", "x-keep:no"]
        json: ["count:3", "ok:true", "label:v1", "id:99"]
        json_types: [number, boolean, string]
      append: { headers: ["x-multi:two"], json: ["list:b"] }
  - name: response-transformer
    route: headers-only
    config: { add: { headers: ["x-added:yes"] } }
  - name: request-termination
    route: reply
    config: { status_code: 403, message: blocked }
  - name: response-transformer
    route: reply
    config: { add: { json: ["hint:ask an admin"], headers: ["x-why:policy"] } }
`),
  })

  test("headers and JSON body in Kong's order; Content-Length matches the new body", async () => {
    const r = await call(`${s.gw.url}/json`)
    assert.equal(r.status, 200)
    assert.equal(r.headers.server, undefined)
    assert.equal(r.headers['x-old'], undefined)
    assert.equal(r.headers['x-new'], 'ov')
    assert.equal(r.headers['x-replace'], 'after')
    assert.equal(r.headers['x-none'], undefined)
    assert.equal(r.headers['x-added'], 'yes')
    assert.equal(r.headers['x-keep'], 'upstream')
    assert.deepEqual(r.headers['x-multi'], ['one', 'two'])
    assert.deepEqual(JSON.parse(r.text), {
      id: 7,
      name: 'N',
      list: ['a', 'b'],
      renamed: 'o',
      count: 3,
      ok: true,
      label: 'v1',
    })
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.text)))
  })

  test('a response that is not JSON keeps its body', async () => {
    const r = await call(`${s.gw.url}/text`)
    assert.equal(r.text, '{"a":"b"}')
    assert.equal(r.headers['content-length'], '9')
    assert.equal(r.headers['x-added'], 'yes')
  })

  test('HEAD keeps the upstream Content-Length', async () => {
    const r = await call(`${s.gw.url}/json`, { method: 'HEAD' })
    assert.equal(r.status, 200)
    assert.equal(
      r.headers['content-length'],
      String(JSON.stringify({ id: 7, secret: 'x', old: 'o', name: 'n', list: ['a'] }).length),
    )
  })

  test('header-only configs stream the body untouched', async () => {
    const r = await call(`${s.gw.url}/headers-only`)
    assert.equal(r.headers['x-added'], 'yes')
    assert.equal(JSON.parse(r.text).secret, 'x')
  })

  test('plugin replies are transformed too', async () => {
    const r = await call(`${s.gw.url}/reply`)
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-why'], 'policy')
    assert.deepEqual(JSON.parse(r.text), { message: 'blocked', hint: 'ask an admin' })
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.text)))
  })
})

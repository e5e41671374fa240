import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileRequest, compileTemplate, describeRequest } from './request.js'

test('templates expand {{i}}, {{vu}}, {{rand:N}} and {{uuid}} per call', () => {
  const t = compileTemplate('req-{{i}}/vu-{{ vu }}/r-{{rand:3}}/{{uuid}}', 'test')
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const m = /^req-(\d+)\/vu-(\d+)\/r-(\d+)\/([0-9a-f-]{36})$/.exec(t({ i, vu: 7 }))
    assert.ok(m, 'expanded text has the expected shape')
    assert.equal(Number(m[1]), i)
    assert.equal(m[2], '7')
    assert.ok(Number(m[3]) < 3)
    seen.add(m[4]!)
  }
  assert.equal(seen.size, 200, 'a fresh uuid every time')
  assert.equal(compileTemplate('plain', 'test')({ i: 1, vu: 1 }), 'plain')
})

test('unknown or broken placeholders are errors naming where they are', () => {
  assert.throws(() => compileTemplate('{{id}}', 'url'), /unknown template \{\{id\}\} in url/)
  assert.throws(() => compileTemplate('{{rand}}', 'body'), /unknown template \{\{rand\}\} in body/)
  assert.throws(() => compileTemplate('{{rand:0}}', 'body'), /unknown template/)
  assert.throws(() => compileTemplate('{{i}', 'header x'), /malformed template in header x/)
})

test('a fixed request is prepared once; JSON bodies get their content type', () => {
  const next = compileRequest({ url: 'http://127.0.0.1:8000/a/b?x=1', method: 'post', body: { a: 1 } })
  const one = next({ i: 0, vu: 1 })
  assert.equal(one, next({ i: 1, vu: 2 }), 'the same object: nothing to expand')
  assert.deepEqual(one, {
    origin: 'http://127.0.0.1:8000',
    path: '/a/b?x=1',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  })
  const own = compileRequest({ url: 'http://h/', headers: { 'Content-Type': 'text/x' }, body: [1] })({
    i: 0,
    vu: 1,
  })
  assert.deepEqual(own.headers, { 'Content-Type': 'text/x' })
  assert.equal(compileRequest({ url: 'http://h' })({ i: 0, vu: 1 }).path, '/')
})

test('templated requests expand url, header values and body, even inside JSON', () => {
  const next = compileRequest({
    url: 'http://127.0.0.1:8000/users/{{i}}',
    headers: { 'x-client': 'client-{{vu}}' },
    body: { id: '{{i}}', note: 'fixed' },
  })
  const r = next({ i: 41, vu: 3 })
  assert.equal(r.path, '/users/41')
  assert.deepEqual(r.headers, { 'x-client': 'client-3', 'content-type': 'application/json' })
  assert.equal(r.body, '{"id":"41","note":"fixed"}')
  // placeholders may even pick the host
  const hosts = compileRequest({ url: 'http://127.0.0.{{vu}}:8000/' })
  assert.equal(hosts({ i: 0, vu: 2 }).origin, 'http://127.0.0.2:8000')
})

test('bad URLs fail at compile time; request functions are prepared per call', () => {
  assert.throws(() => compileRequest({ url: 'nope' }), /invalid URL "nope"/)
  assert.throws(() => compileRequest({ url: 'ws://h/' }), /unsupported URL scheme ws:/)
  assert.throws(() => compileRequest({ url: 'http://h/{{x}}' }), /unknown template/)
  const next = compileRequest(({ i }) => ({ url: `http://h/${i}`, body: new Uint8Array([1, 2]) }))
  assert.equal(next({ i: 5, vu: 1 }).path, '/5')
  assert.deepEqual(next({ i: 5, vu: 1 }).body, new Uint8Array([1, 2]))
  assert.equal(describeRequest({ url: 'http://h/', method: 'delete' }), 'DELETE http://h/')
  assert.equal(
    describeRequest(() => ({ url: 'http://h/' })),
    'custom requests',
  )
})

import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { runValidate } from '../../src/cli/validate.js'
import { createRegistry } from '../../src/plugins/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { type Upstream, upstream, writeConfig } from '../fixtures/helpers.js'
import { get, RawClient } from '../fixtures/raw-http.js'

// Route regexes run on a linear-time engine (core/linear-regex.ts). With V8's backtracking
// engine each case below would block the event loop for hours (2^40 steps): the test would
// time out rather than fail an assertion, which is the failure these cases guard against.
const EVIL = `/${'a'.repeat(40)}!`

describe('edges: user-supplied regexes', () => {
  let a: AdminNode
  let up: Upstream
  before(async () => {
    up = await upstream('up')
    a = await adminNode()
    assert.equal((await a.req('POST', '/services', { name: 's', url: up.url })).status, 201)
  })
  after(async () => {
    await a.stop()
    await up.close()
  })
  const port = () => a.node.proxy.port

  test('~/(a+)+$ is accepted and a path built to backtrack is answered at once; the next request too', async () => {
    const r = await a.req('POST', '/services/s/routes', { name: 'nested', paths: ['~/(a+)+$'] })
    assert.equal(r.status, 201)
    const c = await RawClient.open(port())
    const miss = await c.request(get(EVIL, 'x.test'))
    assert.equal(miss.status, 404)
    const hit = await c.request(get('/aaaa', 'x.test'))
    assert.equal(hit.status, 200)
    assert.equal(up.seen.at(-1)?.url, '/', 'strip_path removed the whole match')
    const health = await c.request(get('/healthz', 'x.test'))
    assert.equal(health.status, 200, 'the next request on the connection gets its own answer')
    c.close()
    assert.ok(!up.seen.some((s) => s.url.includes('!')), 'the evil path never reached the upstream')
  })

  test('a ~* header regex built to backtrack is matched in linear time too', async () => {
    const r = await a.req('POST', '/services/s/routes', {
      name: 'by-header',
      paths: ['/h'],
      headers: { 'x-tag': ['~*^(a|aa)+$'] },
    })
    assert.equal(r.status, 201)
    const c = await RawClient.open(port())
    assert.equal((await c.request(get('/h', 'x.test', `X-Tag: ${'a'.repeat(60)}!`))).status, 404)
    assert.equal((await c.request(get('/h', 'x.test', 'X-Tag: AAAA'))).status, 200)
    c.close()
  })

  const refused: Array<[string, string, RegExp]> = [
    ['backreference', '~/(a)\\1', /invalid regex: '\/\(a\)\\1': invalid escape sequence.*backreferences/],
    ['lookahead', '~/(?=admin)', /invalid regex.*unsupported Perl syntax.*lookaround/],
    ['lookbehind', '~/x(?<!y)', /invalid regex.*lookaround/],
    ['repetition over 1000', '~/a{1001}', /invalid regex.*invalid repeat count/],
  ]
  for (const [what, path, message] of refused) {
    test(`Admin API: a ${what} in a route path is a 400 naming the path, and nothing changes`, async () => {
      const before = (await a.req('GET', '/routes')).body.data as unknown[]
      const r = await a.req('POST', '/services/s/routes', { paths: ['/ok', path] })
      assert.equal(r.status, 400)
      assert.equal(r.body.name, 'schema violation')
      const fields = r.body.fields as { paths: Array<string | null> }
      assert.equal(fields.paths[0], null, 'the valid path has no error')
      assert.match(String(fields.paths[1]), message)
      assert.equal(((await a.req('GET', '/routes')).body.data as unknown[]).length, before.length)
    })
  }

  test('Admin API: a lookaround in a ~* header value is a 400 naming the header', async () => {
    const r = await a.req('POST', '/services/s/routes', {
      paths: ['/x'],
      headers: { 'x-v': ['v1', '~*(?<=a)b'] },
    })
    assert.equal(r.status, 400)
    const fields = r.body.fields as { headers: Record<string, Array<string | null>> }
    assert.match(String(fields.headers['x-v']?.[1]), /invalid regex: '\(\?<=a\)b'.*lookaround/)
  })

  test('portico validate: the same errors with their paths, exit code 1', async () => {
    const file = writeConfig(`_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    routes:
      - { name: r, paths: ["/fine", "~/(?=x)"] }
      - { name: h, paths: ["/h"], headers: { x-v: ["~*(a)\\\\1"] } }
plugins:
  - { name: cors, config: { origins: ["https://(?!evil).*"] } }
`)
    const out = new PassThrough()
    let text = ''
    out.on('data', (d: Buffer) => {
      text += d.toString()
    })
    const code = await runValidate(file, createRegistry(), out)
    assert.equal(code, 1)
    assert.match(text, /^services\[0\]\.routes\[0\]\.paths\[1\]: invalid regex: '\/\(\?=x\)'/m)
    assert.match(text, /^services\[0\]\.routes\[1\]\.headers\.x-v\[0\]: invalid regex: '\(a\)\\1'/m)
    assert.match(
      text,
      /^plugins\[0\]\.config\.origins\[0\]: 'https:\/\/\(\?!evil\)\.\*' is not a valid regex/m,
    )
  })
})

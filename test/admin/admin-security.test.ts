import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, raw } from '../fixtures/helpers.js'

const TOKEN = 'test-admin-token-0123456789'

describe('Admin API security', () => {
  test('a non-loopback admin address without a token refuses to start', async () => {
    await assert.rejects(adminNode({ admin: { host: '0.0.0.0', port: 0 } }), /PORTICO_ADMIN_TOKEN/)
    await assert.rejects(adminNode({ admin: { host: '0.0.0.0', port: 0 }, adminToken: 'short' }), /too short/)
  })

  test('with a token every request needs it: Bearer or Portico-Admin-Token, anything else is 401', async () => {
    const a = await adminNode({ admin: { host: '0.0.0.0', port: 0 }, adminToken: TOKEN })
    try {
      const none = await a.req('GET', '/services')
      assert.equal(none.status, 401)
      assert.match(String(none.headers['www-authenticate']), /Bearer/)
      assert.equal(
        (await a.req('GET', '/services', undefined, { headers: { authorization: `Bearer ${TOKEN}x` } }))
          .status,
        401,
      )
      assert.equal(
        (await a.req('POST', '/services', { host: 'h.test' }, { headers: { 'portico-admin-token': 'nope' } }))
          .status,
        401,
      )
      assert.equal(
        (await a.req('GET', '/services', undefined, { headers: { authorization: `Bearer ${TOKEN}` } }))
          .status,
        200,
      )
      const made = await a.req(
        'POST',
        '/services',
        { host: 'h.test' },
        { headers: { 'portico-admin-token': TOKEN } },
      )
      assert.equal(made.status, 201)
    } finally {
      await a.stop()
    }
  })

  describe('bad input changes nothing', () => {
    let a: AdminNode
    let before_: string
    before(async () => {
      a = await adminNode({ adminAllowedUpstreams: '127.0.0.1, *.internal, 10.0.0.0/8' })
      await a.req('POST', '/services', { name: 'keep', host: 'api.internal' })
      before_ = (await a.req('GET', '/config?format=json')).text
    })
    after(() => a.stop())
    const unchanged = async () => assert.equal((await a.req('GET', '/config?format=json')).text, before_)

    test('a body over 1 MB is 413 (and over 10 MB for /config)', async () => {
      const big = JSON.stringify({ name: 'big', host: 'api.internal', tags: ['x'.repeat(1024 * 1024)] })
      assert.equal(
        (await a.req('POST', '/services', big, { headers: { 'content-type': 'application/json' } })).status,
        413,
      )
      const huge = 'x'.repeat(10 * 1024 * 1024 + 10)
      assert.equal(
        (await a.req('POST', '/config', huge, { headers: { 'content-type': 'text/yaml' } })).status,
        413,
      )
      const lying = await raw(
        a.node.admin?.port as number,
        'POST /services HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{',
      )
      assert.match(lying, /^HTTP\/1\.1 413/)
      await unchanged()
    })

    test('malformed JSON, a JSON array, wrong types, unknown fields', async () => {
      const json = { headers: { 'content-type': 'application/json' } }
      const malformed = await a.req('POST', '/services', '{"hello": "world"', json)
      assert.equal(malformed.status, 400)
      assert.deepEqual(malformed.body, { message: 'Cannot parse JSON body' })
      assert.equal((await a.req('POST', '/services', '[1,2]', json)).status, 400)
      const types = await a.req('POST', '/services', { host: 'api.internal', port: 'eighty', retries: true })
      assert.equal(types.status, 400)
      assert.deepEqual(Object.keys(types.body.fields as object).sort(), ['port', 'retries'])
      const unknown = await a.req('PATCH', '/services/keep', { colour: 'blue' })
      assert.equal(unknown.status, 400)
      assert.deepEqual(unknown.body.fields, { colour: 'unknown field' })
      const unknownNew = await a.req('POST', '/services', {
        name: 'new',
        host: 'api.internal',
        colour: 'blue',
      })
      assert.equal(unknownNew.status, 400)
      assert.deepEqual(unknownNew.body.fields, { colour: 'unknown field' })
      const unknownForm = await a.req('POST', '/routes', [
        ['paths[]', '/x'],
        ['colour', 'blue'],
      ])
      assert.equal(unknownForm.status, 400)
      assert.deepEqual(unknownForm.body.fields, { colour: 'unknown field' })
      await unchanged()
    })

    test('__proto__, constructor and prototype keys are refused, in JSON and in forms', async () => {
      const json = { headers: { 'content-type': 'application/json' } }
      for (const body of [
        '{"host":"api.internal","__proto__":{"admin":true}}',
        '{"name":"rl","config":{"constructor":{"prototype":{"x":1}}}}',
      ]) {
        const res = await a.req('POST', '/services', body, json)
        assert.equal(res.status, 400, body)
        assert.equal(res.body.code, 2)
      }
      for (const key of ['__proto__.admin', 'constructor.prototype.admin', 'config.prototype']) {
        const res = await a.req('POST', '/plugins', [
          ['name', 'rate-limiting'],
          [key, '1'],
        ])
        assert.equal(res.status, 400, key)
      }
      assert.equal(({} as Record<string, unknown>).admin, undefined)
      await unchanged()
    })

    test('hosts outside PORTICO_ADMIN_ALLOWED_UPSTREAMS, and metadata addresses, are refused', async () => {
      const outside = await a.req('POST', '/services', { name: 'ext', url: 'http://example.com' })
      assert.equal(outside.status, 400)
      assert.match(String((outside.body.fields as { host: string }).host), /not in the allowed upstreams/)
      for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/']) {
        const res = await a.req('POST', '/services', { url })
        assert.equal(res.status, 400, url)
        assert.match(String((res.body.fields as { host: string }).host), /metadata/)
      }
      await a.req('POST', '/upstreams', { name: 'guarded' })
      const target = await a.req('POST', '/upstreams/guarded/targets', { target: 'evil.example.com:80' })
      assert.equal(target.status, 400)
      assert.ok('target' in (target.body.fields as object))
      const moved = await a.req('PATCH', '/services/keep', { host: '11.0.0.1' })
      assert.equal(moved.status, 400)
      const file = `_format_version: "3.0"\nservices: [{ name: meta, url: "http://169.254.169.254" }]\n`
      assert.equal(
        (await a.req('POST', '/config', file, { headers: { 'content-type': 'text/yaml' } })).status,
        400,
      )
      const reg = await a.req('POST', '/registry/services/evil/instances', { url: 'http://example.com:80' })
      assert.equal(reg.status, 400)
      assert.equal((await a.req('POST', '/services', { name: 'ok10', host: '10.2.3.4' })).status, 201)
      await a.req('DELETE', '/services/ok10')
      await a.req('DELETE', '/upstreams/guarded')
      await unchanged()
    })

    test('a malformed percent-encoding in the path is a 400', async () => {
      assert.equal((await call(`${a.admin}/services/%E0%A4%A`)).status, 400)
    })
  })

  test('without a list, link-local and metadata addresses are still refused', async () => {
    const a = await adminNode()
    try {
      const res = await a.req('POST', '/services', { url: 'http://169.254.169.254' })
      assert.equal(res.status, 400)
      assert.equal((await a.req('POST', '/services', { url: 'http://example.com' })).status, 201)
    } finally {
      await a.stop()
    }
  })
})

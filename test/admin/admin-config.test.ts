import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

const FILE = (url: string) => `_format_version: "3.0"
services:
  - name: from-file
    url: ${url}
    routes:
      - { name: file-route, paths: [/file] }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    basicauth_credentials: [{ username: alice, password: alice-password }]
`

describe('Admin API: /config, /, /status', () => {
  let a: AdminNode
  let up: Upstream
  before(async () => {
    up = await upstream('up')
    a = await adminNode({}, FILE(up.url))
  })
  after(async () => {
    await a.stop()
    await up.close()
  })

  test('the declarative file given at start is what the Admin API shows', async () => {
    const s = await a.req('GET', '/services/from-file')
    assert.equal(s.status, 200)
    assert.equal((await call(`${a.proxy}/file`)).status, 200)
  })

  test("GET /config: Kong's {config: yaml} by default, ?format=json|yaml, Accept: application/yaml", async () => {
    const kong = await a.req('GET', '/config')
    const doc = parse(String(kong.body.config)) as Record<string, unknown>
    assert.equal(doc._format_version, '3.0')
    assert.equal(doc._transform, false)
    const json = await a.req('GET', '/config?format=json')
    assert.deepEqual(json.body, doc)
    const yaml = await a.req('GET', '/config?format=yaml')
    assert.match(String(yaml.headers['content-type']), /yaml/)
    assert.deepEqual(parse(yaml.text), doc)
    const accept = await call(`${a.admin}/config`, { headers: { accept: 'application/yaml' } })
    assert.deepEqual(parse(accept.text), doc)
    assert.equal((await a.req('GET', '/config?format=toml')).status, 400)
  })

  test('export then import gives the same configuration (hash unchanged → 304 with check_hash)', async () => {
    const exported = (await a.req('GET', '/config?format=json')).body
    const hashBefore = (await a.req('GET', '/status')).body.configuration_hash
    const same = await a.req('POST', '/config?check_hash=1', exported)
    assert.equal(same.status, 304)
    const again = await a.req('POST', '/config', exported)
    assert.equal(again.status, 201)
    assert.equal((await a.req('GET', '/status')).body.configuration_hash, hashBefore)
  })

  test('POST /config replaces everything, in every body form Kong accepts', async () => {
    const next = (path: string) =>
      `_format_version: "3.0"\nservices:\n  - name: only\n    url: ${up.url}\n    routes: [{ paths: ["${path}"] }]\n`
    const forms: Array<[string, () => Promise<{ status: number; body: Record<string, unknown> }>]> = [
      [
        'raw yaml',
        () => a.req('POST', '/config', next('/raw'), { headers: { 'content-type': 'text/yaml' } }),
      ],
      ['json {config}', () => a.req('POST', '/config', { config: next('/json-field') })],
      ['form config=', () => a.req('POST', '/config', { config: next('/form') }, { form: true })],
      [
        'multipart -F config=@file',
        () => {
          const b = 'cfg-boundary'
          const body = `--${b}\r\nContent-Disposition: form-data; name="config"; filename="kong.yml"\r\n\r\n${next('/multipart')}\r\n--${b}--\r\n`
          return a.req('POST', '/config', body, {
            headers: { 'content-type': `multipart/form-data; boundary=${b}` },
          })
        },
      ],
    ]
    for (const [label, send] of forms) {
      const res = await send()
      assert.equal(res.status, 201, label)
      const services = res.body.services as Record<string, { name: string }>
      assert.deepEqual(
        Object.values(services).map((s) => s.name),
        ['only'],
        label,
      )
      assert.equal((await a.req('GET', '/services/from-file')).status, 404, label)
      assert.equal((await a.req('GET', '/consumers/alice')).status, 404, label)
    }
    assert.equal((await call(`${a.proxy}/multipart`)).status, 200)
    assert.equal((await call(`${a.proxy}/raw`)).status, 404)
  })

  test('an invalid file is refused whole with every issue (code 14) and nothing changes', async () => {
    const before = (await a.req('GET', '/config?format=json')).body
    const bad = `_format_version: "3.0"\nservices:\n  - name: x\n    port: 99999\n    host: h.test\n  - name: y\n    routes: [{ paths: [nope] }]\n`
    const res = await a.req('POST', '/config', bad, { headers: { 'content-type': 'application/yaml' } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 14)
    assert.equal(res.body.name, 'invalid declarative configuration')
    const flat = res.body.flattened_errors as Array<{ entity_name: string; errors: Array<{ field: string }> }>
    assert.ok(flat.some((e) => e.entity_name === 'x' && e.errors.some((x) => x.field === 'port')))
    assert.ok(flat.some((e) => (e as { entity_type?: string }).entity_type === 'route'))
    assert.ok(Array.isArray((res.body.fields as { services: unknown[] }).services))
    assert.deepEqual((await a.req('GET', '/config?format=json')).body, before)
    assert.equal(
      (await a.req('POST', '/config', '', { headers: { 'content-type': 'text/yaml' } })).status,
      400,
    )
  })

  test('GET / describes the node; GET /status its store and configuration hash; GET /endpoints', async () => {
    const root = await a.req('GET', '/')
    assert.equal(root.body.tagline, 'Welcome to Portico')
    assert.equal(typeof root.body.version, 'string')
    assert.equal(typeof root.body.hostname, 'string')
    const plugins = root.body.plugins as { available_on_server: Record<string, unknown> }
    assert.ok('rate-limiting' in plugins.available_on_server)
    const conf = root.body.configuration as Record<string, unknown>
    assert.deepEqual([conf.database, conf.config_store], ['off', 'memory'])
    assert.deepEqual(conf.admin_listen, [`127.0.0.1:${a.node.admin?.port}`])
    const status = await a.req('GET', '/status')
    assert.deepEqual(status.body.database, { reachable: true })
    assert.match(String(status.body.configuration_hash), /^[0-9a-f]{64}$/)
    assert.equal((status.body.config_store as { config: string }).config, 'memory')
    const endpoints = (await a.req('GET', '/endpoints')).body.data as string[]
    assert.ok(endpoints.includes('/services/{service}/routes/{route}'))
    assert.ok(endpoints.includes('/consumers/{consumer}/key-auth'))
  })
})

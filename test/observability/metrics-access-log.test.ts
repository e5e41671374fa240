import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CACHE_STATUS } from '../../src/plugins/proxy-cache/state.js'
import { RATE_LIMIT } from '../../src/plugins/rate-limiting/stats.js'
import { call, gateway, upstream } from '../fixtures/helpers.js'
import { testPlugin } from '../fixtures/plugins.js'

const consumerFromHeader = testPlugin('test-consumer', 1000, () => ({
  access(ctx) {
    const name = ctx.header('x-consumer')
    if (name !== undefined) ctx.consumer = { id: `id-${name}`, username: name }
    ctx.set(CACHE_STATUS, 'Miss')
    ctx.set(RATE_LIMIT, 'allowed')
    return undefined
  },
}))

test('access log: one JSON line per request in a file (directory created), written out on stop', async () => {
  const up = await upstream('logged')
  const file = join(mkdtempSync(join(tmpdir(), 'portico-access-')), 'nested', 'access.log')
  const node = await gateway(
    `
_format_version: "3.0"
services:
  - name: logged-svc
    url: ${up.url}
    routes: [{ name: logged-route, paths: [/l] }]
plugins:
  - name: test-consumer
`,
    { accessLog: file },
    [consumerFromHeader],
  )
  let ids: string[] = []
  try {
    const a = await call(`${node.url}/l/one?secret=1`, { headers: { 'x-consumer': 'alice' } })
    const b = await call(`${node.url}/l/two`, { method: 'POST', body: 'hello' })
    const c = await call(`${node.url}/missing`)
    ids = [a, b, c].map((r) => String(r.headers['x-request-id']))
  } finally {
    await node.stop()
    await up.close()
  }
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(lines.length, 3)
  const [one, two, missing] = lines
  assert.deepEqual(
    lines.map((l) => l.request_id),
    ids,
  )
  assert.match(one.time, /^\d{4}-\d\d-\d\dT/)
  assert.equal(one.level, undefined)
  assert.equal(one.log, 'access')
  assert.equal(one.method, 'GET')
  assert.equal(one.path, '/l/one') // the query is not logged
  assert.equal(one.status, 200)
  assert.equal(one.route, 'logged-route')
  assert.equal(one.service, 'logged-svc')
  assert.equal(one.consumer, 'alice')
  assert.equal(one.client_ip, '127.0.0.1')
  assert.equal(one.cache, 'Miss')
  assert.equal(one.rate_limit, 'allowed')
  assert.equal(one.target, `127.0.0.1:${up.port}`)
  assert.match(one.trace_id, /^[0-9a-f]{32}$/)
  assert.ok(one.bytes_in > 0 && one.bytes_out > 0)
  for (const k of ['latency_ms', 'upstream_ms', 'gateway_ms']) assert.equal(typeof one[k], 'number', k)
  assert.ok(one.latency_ms >= one.upstream_ms)
  assert.equal(two.method, 'POST')
  assert.equal(two.consumer, null)
  assert.ok(two.bytes_in > one.bytes_in - 20) // carries its 5-byte body
  assert.equal(missing.status, 404)
  assert.equal(missing.route, null)
  assert.equal(missing.upstream_ms, null)
  assert.equal(missing.target, null)
  assert.equal(missing.trace_id, null)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema } from './schema.js'

const issues = (input: unknown): string[] => {
  const r = schema.safeParse(input)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

test('Kong 3.x defaults', () => {
  const c = schema.parse({ strategy: 'memory' })
  assert.deepEqual(c.response_code, [200, 301, 404])
  assert.deepEqual(c.request_method, ['GET', 'HEAD'])
  assert.deepEqual(c.content_type, ['text/plain', 'application/json'])
  assert.equal(c.cache_ttl, 300)
  assert.equal(c.cache_control, false)
  assert.equal(c.ignore_uri_case, false)
  assert.equal(c.storage_ttl, undefined)
  assert.deepEqual(c.memory, { dictionary_name: 'kong_db_cache' })
  assert.equal(c.vary_headers, undefined)
  assert.equal(c.vary_query_params, undefined)
  assert.deepEqual(c.response_headers, { age: true, 'X-Cache-Status': true, 'X-Cache-Key': true })
  assert.equal(c.cache_post, false)
  assert.equal(c.key_includes_consumer, true)
  assert.equal(c.stale_while_revalidate, 0)
  assert.equal(c.stale_if_error, 0)
})

test('strategy is required (Kong) and is memory or redis', () => {
  assert.ok(issues({}).some((m) => m.startsWith('strategy')))
  assert.ok(issues({ strategy: 'disk' }).some((m) => m.startsWith('strategy')))
  assert.deepEqual(issues({ strategy: 'redis', redis: { host: '10.0.0.1', port: 6380, database: 2 } }), [])
})

test('400 and 5xx can never be configured as cacheable', () => {
  assert.ok(issues({ strategy: 'memory', response_code: [200, 500] }).some((m) => m.includes('never caches')))
  assert.ok(issues({ strategy: 'memory', response_code: [400] }).some((m) => m.includes('never caches')))
  assert.deepEqual(issues({ strategy: 'memory', response_code: [200, 203, 410] }), [])
})

test("POST, PUT and PATCH are accepted in request_method as Kong's schema does (the body is keyed)", () => {
  assert.deepEqual(issues({ strategy: 'memory', request_method: ['GET', 'HEAD', 'POST'] }), [])
  assert.deepEqual(issues({ strategy: 'memory', request_method: ['GET', 'POST'], cache_post: true }), [])
})

test('unknown fields and Kong Redis fields Portico cannot honour are errors', () => {
  assert.ok(issues({ strategy: 'memory', nope: 1 }).length > 0)
  assert.ok(
    issues({ strategy: 'redis', redis: { sentinel_addresses: ['h:1'] } }).some((m) => m.includes('sentinel')),
  )
  assert.ok(issues({ strategy: 'redis', redis: { keepalive_pool_size: 10 } }).length > 0)
  assert.deepEqual(
    issues({ strategy: 'redis', redis: { keepalive_pool_size: 256, cluster_max_redirections: 5 } }),
    [],
  )
})

test("Kong's Sentinel and Cluster fields are honoured: one topology at a time, a master name with sentinels", () => {
  assert.deepEqual(
    issues({ strategy: 'redis', redis: { cluster_nodes: [{ ip: '10.0.0.1', port: 7000 }] } }),
    [],
  )
  assert.deepEqual(
    issues({
      strategy: 'redis',
      redis: {
        sentinel_nodes: [{ host: '10.0.0.1', port: 26379 }],
        sentinel_master: 'm',
        sentinel_role: 'master',
      },
    }),
    [],
  )
  assert.ok(
    issues({ strategy: 'redis', redis: { sentinel_nodes: [{ host: '10.0.0.1' }] } }).some((m) =>
      m.includes('required with sentinel_nodes'),
    ),
  )
  assert.ok(
    issues({ strategy: 'redis', redis: { host: 'r', cluster_nodes: [{ ip: '10.0.0.1' }] } }).some((m) =>
      m.includes('one of host, cluster_nodes and sentinel_nodes'),
    ),
  )
  assert.ok(
    issues({
      strategy: 'redis',
      redis: { sentinel_nodes: [{ host: 'h' }], sentinel_master: 'm', sentinel_role: 'any' },
    }).length > 0,
  )
})

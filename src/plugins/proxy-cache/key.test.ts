import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { test } from 'node:test'
import { RequestContext } from '../../core/context.js'
import { compileKey, queryKey, variantKey } from './key.js'
import { schema } from './schema.js'

function ctx(opts: {
  method?: string
  path?: string
  query?: string
  headers?: Record<string, string>
  consumer?: string
}) {
  const req = { method: opts.method ?? 'GET', headers: opts.headers ?? {} } as unknown as IncomingMessage
  const c = new RequestContext(req, {} as ServerResponse, 'id', 0)
  c.host = 'api.example.com'
  c.path = opts.path ?? '/a'
  c.query = opts.query ?? ''
  c.route = { id: 'route-1' }
  if (opts.consumer) c.consumer = { id: opts.consumer }
  return c
}

test('query: sorted by name, stable for repeated names, or only the configured names', () => {
  assert.equal(queryKey('', null), '')
  assert.equal(queryKey('b=2&a=1', null), 'a=1&b=2')
  assert.equal(queryKey('a=2&b=1&a=1', null), 'a=2&a=1&b=1')
  assert.equal(queryKey('b=2&a=1&&c', new Set(['c', 'a'])), 'a=1&c')
  assert.equal(queryKey('%61=1&b=2', new Set(['a'])), '%61=1', 'names are compared decoded')
})

test('the key: route, consumer, method (HEAD as GET), host, path, query, vary headers, forwarded headers, body', () => {
  const key = compileKey(schema.parse({ strategy: 'memory', vary_headers: ['X-Tenant'] }))
  const base = key(ctx({}), '')
  assert.match(base, /^[0-9a-f]{64}$/)
  assert.equal(key(ctx({ method: 'HEAD' }), ''), base)
  const different = [
    key(ctx({ method: 'POST' }), ''),
    key(ctx({ path: '/b' }), ''),
    key(ctx({ query: 'x=1' }), ''),
    key(ctx({ consumer: 'alice' }), ''),
    key(ctx({ headers: { 'x-tenant': 't1' } }), ''),
    key(ctx({ headers: { 'x-tenant': '' } }), ''),
    key(ctx({ headers: { 'x-forwarded-host': 'evil.example' } }), ''),
    key(ctx({}), 'bodyhash'),
  ]
  assert.equal(new Set([base, ...different]).size, different.length + 1)
  assert.equal(key(ctx({ headers: { other: 'x' } }), ''), base, 'unconfigured headers are not keyed')
})

test('key_includes_consumer: false leaves the consumer out; ignore_uri_case lower-cases the path', () => {
  const noConsumer = compileKey(schema.parse({ strategy: 'memory', key_includes_consumer: false }))
  assert.equal(noConsumer(ctx({ consumer: 'alice' }), ''), noConsumer(ctx({}), ''))
  const caseless = compileKey(schema.parse({ strategy: 'memory', ignore_uri_case: true }))
  assert.equal(caseless(ctx({ path: '/A/B' }), ''), caseless(ctx({ path: '/a/b' }), ''))
})

test('variant keys depend on the Vary headers’ values and the index epoch', () => {
  const en = variantKey(ctx({ headers: { 'accept-language': 'en' } }), 'base', 'e1', ['accept-language'])
  assert.equal(
    variantKey(ctx({ headers: { 'accept-language': 'en' } }), 'base', 'e1', ['accept-language']),
    en,
  )
  assert.notEqual(
    variantKey(ctx({ headers: { 'accept-language': 'fr' } }), 'base', 'e1', ['accept-language']),
    en,
  )
  assert.notEqual(
    variantKey(ctx({ headers: { 'accept-language': 'en' } }), 'base', 'e2', ['accept-language']),
    en,
  )
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConfigDocument } from '../core/entities.js'
import { parseDeclarative } from './declarative.js'
import { exportDeclarative, toDeclarative } from './export.js'
import { rateLimitingRegistry } from './testing.js'
import { validateDocument } from './validate.js'

// Test data: one plugin with a real schema.
const registry = rateLimitingRegistry()

function load(input: object): ConfigDocument {
  const { document, issues } = validateDocument({ _format_version: '3.0', ...input }, registry)
  assert.deepEqual(issues, [])
  assert.ok(document)
  return document
}

test("the export is Kong's nested form with ids, foreign keys as ids and _transform: false", () => {
  const doc = load({
    services: [{ name: 'a', host: 'a', routes: [{ name: 'r', paths: ['/'] }] }],
    consumers: [{ username: 'c', keyauth_credentials: [{ key: 'k' }] }],
    plugins: [{ name: 'rate-limiting', route: 'r', consumer: 'c' }],
    upstreams: [{ name: 'u', targets: [{ target: 'x' }] }],
  })
  const out = toDeclarative(doc) as Record<string, Array<Record<string, unknown>>>
  assert.equal(out._format_version as unknown, '3.0')
  assert.equal(out._transform as unknown, false)
  const [service] = out.services ?? []
  const [route] = (service?.routes as Array<Record<string, unknown>>) ?? []
  assert.equal(route?.id, doc.routes[0]?.id)
  assert.equal('service' in (route ?? {}), false, 'implied by nesting')
  const [plugin] = (route?.plugins as Array<Record<string, unknown>>) ?? []
  assert.equal(plugin?.consumer, doc.consumers[0]?.id, 'other foreign keys are plain ids')
  assert.equal('route' in (plugin ?? {}), false)
  assert.equal(((out.consumers?.[0]?.keyauth_credentials as unknown[]) ?? []).length, 1)
  assert.equal(((out.upstreams?.[0]?.targets as unknown[]) ?? []).length, 1)
  assert.deepEqual(Object.keys(out), ['_format_version', '_transform', 'services', 'consumers', 'upstreams'])
})

test('entities whose nesting would change the document order stay at the top level', () => {
  // route order [b-route, a-route] while services are [a, b]: nesting both would swap them
  const doc = load({
    services: [
      { name: 'a', host: 'a' },
      { name: 'b', host: 'b' },
    ],
    routes: [
      { name: 'b-route', service: 'b', paths: ['/b'] },
      { name: 'a-route', service: 'a', paths: ['/a'] },
    ],
  })
  const out = toDeclarative(doc) as Record<string, Array<Record<string, unknown>>>
  assert.deepEqual(
    out.routes?.map((r) => [r.name, r.service]),
    [['a-route', doc.services[0]?.id]],
  )
  assert.equal((out.services?.[1]?.routes as unknown[] | undefined)?.length, 1)
  for (const format of ['yaml', 'json'] as const) {
    assert.deepEqual(parseDeclarative(exportDeclarative(doc, format), registry).document, doc, format)
  }
})

test('an empty document exports to a file with only the format version', () => {
  const empty = load({})
  assert.equal(exportDeclarative(empty, 'yaml'), '_format_version: "3.0"\n_transform: false\n')
  assert.deepEqual(JSON.parse(exportDeclarative(empty, 'json')), {
    _format_version: '3.0',
    _transform: false,
  })
})

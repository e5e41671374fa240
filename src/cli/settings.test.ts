import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveSettings } from './settings.js'

test('observability settings: metrics on by default, access log off, no span export', () => {
  const s = resolveSettings({}, {}, '/nonexistent')
  assert.equal(s.node.metrics, true)
  assert.equal(s.node.accessLog, 'off')
  assert.equal(s.node.otlpEndpoint, undefined)
})

test('observability settings from PORTICO_* variables, flags winning', () => {
  const env = {
    PORTICO_METRICS: 'off',
    PORTICO_ACCESS_LOG: '/var/log/portico/access.log',
    PORTICO_OTLP_ENDPOINT: 'http://collector:4318',
  }
  const s = resolveSettings({}, env, '/nonexistent')
  assert.equal(s.node.metrics, false)
  assert.equal(s.node.accessLog, '/var/log/portico/access.log')
  assert.equal(s.node.otlpEndpoint, 'http://collector:4318')
  const f = resolveSettings({ metrics: 'on', 'access-log': 'stdout' }, env, '/nonexistent')
  assert.equal(f.node.metrics, true)
  assert.equal(f.node.accessLog, 'stdout')
  assert.throws(() => resolveSettings({ metrics: 'maybe' }, {}, '/'), /metrics: expected on or off/)
  assert.throws(
    () => resolveSettings({ 'otlp-endpoint': 'collector:4318' }, {}, '/'),
    /OTLP endpoint: expected an http\(s\) URL/,
  )
})

test('upstream pool caps: defaults, then PORTICO_UPSTREAM_* with flags winning', () => {
  assert.deepEqual(resolveSettings({}, {}, '/nonexistent').node.upstreamPool, {
    connections: 128,
    queue: 1024,
  })
  const env = { PORTICO_UPSTREAM_CONNECTIONS: '16', PORTICO_UPSTREAM_QUEUE: '0' }
  assert.deepEqual(resolveSettings({}, env, '/nonexistent').node.upstreamPool, { connections: 16, queue: 0 })
  const f = resolveSettings({ 'upstream-queue': '8' }, env, '/nonexistent')
  assert.deepEqual(f.node.upstreamPool, { connections: 16, queue: 8 })
})

test('workers: a number, or auto for one per core (within a CPU limit); auto by default', async () => {
  const { autoWorkers } = await import('./cpus.js')
  assert.equal(resolveSettings({}, {}, '/nonexistent').workers, autoWorkers())
  assert.equal(resolveSettings({ workers: '1' }, {}, '/nonexistent').workers, 1)
  assert.equal(resolveSettings({ workers: '4' }, {}, '/nonexistent').workers, 4)
  assert.equal(resolveSettings({}, { PORTICO_WORKERS: 'auto' }, '/nonexistent').workers, autoWorkers())
  assert.throws(() => resolveSettings({ workers: 'many' }, {}, '/'), /workers: expected a whole number/)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { childTraceparent, newSpanId, newTraceId, parseTraceparent } from './trace.js'

const SHAPE = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

test('without a (valid) caller traceparent a new sampled trace starts', () => {
  for (const incoming of [
    undefined,
    '',
    'garbage',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero parent id
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // 00 has no extra fields
    '00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01', // misplaced dash
  ]) {
    const tp = childTraceparent(incoming)
    assert.match(tp, SHAPE, String(incoming))
    assert.ok(tp.endsWith('-01'))
    assert.notEqual(tp.slice(3, 35), '4bf92f3577b34da6a3ce929d0e0e4736', String(incoming))
  }
})

test('a valid caller traceparent keeps its trace id and flags; the parent id is new', () => {
  const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'
  const tp = childTraceparent(incoming)
  assert.match(tp, SHAPE)
  assert.equal(tp.slice(0, 36), '00-4bf92f3577b34da6a3ce929d0e0e4736-')
  assert.notEqual(tp.slice(36, 52), '00f067aa0ba902b7')
  assert.ok(tp.endsWith('-00'))
  // a future version is read by its version-00 prefix
  const future = childTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever')
  assert.equal(future.slice(0, 36), '00-4bf92f3577b34da6a3ce929d0e0e4736-')
})

test('ids are random, non-zero, hex of the right length; parse reads the fields', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 2000; i++) {
    const t = newTraceId()
    const s = newSpanId()
    assert.match(t, /^[0-9a-f]{32}$/)
    assert.match(s, /^[0-9a-f]{16}$/)
    seen.add(t)
  }
  assert.equal(seen.size, 2000)
  assert.deepEqual(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    parentId: '00f067aa0ba902b7',
    flags: '01',
  })
  assert.equal(parseTraceparent('00-xyz'), null)
})

import assert from 'node:assert/strict'
import { timingSafeEqual } from 'node:crypto'
import { test } from 'node:test'
import { type Comparator, DIGEST_BYTES, SecretIndex, safeEqual, secretDigest } from './safe-equal.js'

/** A comparator that records what it was given, then does the real constant-time comparison. */
function recording(): { calls: Array<[number, number]>; compare: Comparator } {
  const calls: Array<[number, number]> = []
  return {
    calls,
    compare: (a, b) => {
      calls.push([a.byteLength, b.byteLength])
      return timingSafeEqual(a, b)
    },
  }
}

test('safeEqual: equal secrets are equal, different ones are not', () => {
  assert.equal(safeEqual('alice-key', 'alice-key'), true)
  assert.equal(safeEqual('alice-key', 'alice-kez'), false)
  assert.equal(safeEqual('alice-key', 'Alice-key'), false)
  assert.equal(safeEqual(Buffer.from('k1'), 'k1'), true)
  assert.equal(safeEqual('', ''), true)
})

test('safeEqual: different lengths compare without throwing and are unequal', () => {
  // timingSafeEqual itself throws on a length mismatch: the digests make that impossible
  assert.throws(() => timingSafeEqual(Buffer.from('a'), Buffer.from('ab')))
  assert.equal(safeEqual('a', 'ab'), false)
  assert.equal(safeEqual('', 'x'.repeat(10_000)), false)
  assert.equal(safeEqual('short', 'a much longer secret than the other one'), false)
})

test('safeEqual: goes through the timing-safe comparison on fixed-length digests, once', () => {
  for (const [a, b] of [
    ['k1', 'k1'],
    ['k1', 'k2'],
    ['', 'x'.repeat(4096)],
    ['x'.repeat(4096), 'y'],
  ] as const) {
    const r = recording()
    safeEqual(a, b, r.compare)
    assert.deepEqual(r.calls, [[DIGEST_BYTES, DIGEST_BYTES]], `${a.length} vs ${b.length} bytes`)
  }
})

test('secretDigest is SHA-256: 32 bytes for any input length', () => {
  assert.equal(secretDigest('').length, 32)
  assert.equal(secretDigest('x'.repeat(100_000)).length, 32)
  assert.equal(
    secretDigest('abc').toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  )
})

test('SecretIndex: finds by digest and confirms with the timing-safe comparison', () => {
  const r = recording()
  const index = new SecretIndex<string>(r.compare)
  index.add('alice-key', 'alice')
  index.add('bob-key', 'bob')
  assert.equal(index.size, 2)
  assert.equal(index.find('alice-key'), 'alice')
  assert.equal(index.find('bob-key'), 'bob')
  assert.deepEqual(r.calls, [
    [32, 32],
    [32, 32],
  ])
  assert.equal(index.find('carol-key'), undefined)
  assert.equal(index.find(''), undefined)
  assert.equal(index.find('alice-key '), undefined)
})

test('SecretIndex: a prefix, an extension or a one-byte change of a key is a miss; every comparison is 32 vs 32 bytes', () => {
  const r = recording()
  const index = new SecretIndex<string>(r.compare)
  const key = 'alice-key-0123456789abcdef'
  index.add(key, 'alice')
  for (const near of [key.slice(0, -1), `${key}0`, `${key.slice(0, -1)}e`, key.toUpperCase(), 'a', '']) {
    assert.equal(index.find(near), undefined, near)
  }
  assert.equal(index.find(key), 'alice')
  // a miss finds no digest to compare with; a hit compares two digests, never the keys themselves
  assert.ok(r.calls.every(([a, b]) => a === DIGEST_BYTES && b === DIGEST_BYTES))
  assert.equal(r.calls.length, 1)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CachedResponse, decode, encode, storableHeaders, type VaryIndex } from './entry.js'

test('stored headers drop framing, per-request, cache and rate-limit headers', () => {
  const { headers } = storableHeaders(
    {
      'content-type': 'application/json',
      'content-length': '10',
      'x-request-id': 'r1',
      'x-cache-status': 'Miss',
      'x-ratelimit-remaining-minute': '9',
      'ratelimit-remaining': '9',
      'x-consumer': 'alice',
      etag: '"v1"',
      link: ['<a>', '<b>'],
    },
    ['X-Consumer', 'alice'],
  )
  assert.deepEqual(headers, { 'content-type': 'application/json', etag: '"v1"', link: ['<a>', '<b>'] })
  assert.ok(Object.isFrozen(headers))
})

test('responses and Vary indexes round-trip through the Redis encoding', () => {
  const r: CachedResponse = {
    kind: 'response',
    key: 'k',
    status: 200,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from([0, 255, 10, 13]),
    storedAt: 1_700_000_000_000,
    ttl: 30,
    swr: 5,
    sie: 60,
    storageMs: 90_000,
    bytes: 0,
    base: 'b',
    vary: ['accept-language'],
    epoch: 'e',
  }
  const back = decode(encode(r)) as CachedResponse
  assert.deepEqual({ ...back, bytes: 0 }, r)
  const i: VaryIndex = {
    kind: 'vary',
    key: 'b',
    names: ['a', 'b'],
    epoch: 'e',
    storedAt: 1,
    storageMs: 2,
    bytes: 0,
  }
  assert.deepEqual({ ...(decode(encode(i)) as VaryIndex), bytes: 0 }, i)
})

test('another layout version is reported, garbage is null', () => {
  const json = Buffer.from(JSON.stringify({ v: 99, kind: 'response', key: 'k' }))
  const buf = Buffer.concat([Buffer.from([0, 0, 0, json.length]), json])
  assert.equal(decode(buf), 'stale-format')
  assert.equal(decode(Buffer.from('nope')), null)
  assert.equal(decode(Buffer.from([0, 0, 0, 50, 1])), null)
})

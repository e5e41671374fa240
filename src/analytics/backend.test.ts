import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Batch, MemoryBackend } from './backend.js'

const batch = (n: number, members: Array<[string, number]>, keep = 2): Batch => ({
  hashes: [{ key: 'h', fields: new Map([['n', n]]), ttlSec: 60 }],
  zsets: [{ key: 'z', members: new Map(members), keep, ttlSec: 60 }],
  uniques: [{ key: 'u', items: ['a', 'b', `c${n}`], ttlSec: 60 }],
  node: { id: 'node-1', value: `{"n":${n}}`, ttlSec: 60 },
})

test('the memory backend adds up flushes, trims top lists, and forgets keys past their retention', async () => {
  let now = 1_000_000
  const b = new MemoryBackend(() => now)
  await b.write(
    batch(2, [
      ['x', 5],
      ['y', 1],
    ]),
  )
  await b.write(
    batch(3, [
      ['y', 1],
      ['z', 4],
    ]),
  )
  assert.deepEqual(await b.hashes(['h', 'missing']), [new Map([['n', 5]]), new Map()])
  // keep 2: y (2) is past the two largest (x 5, z 4) and goes
  assert.deepEqual(await b.zsets(['z']), [
    new Map([
      ['x', 5],
      ['z', 4],
    ]),
  ])
  assert.equal(await b.uniques(['u']), 4)
  assert.deepEqual(await b.nodes(), ['{"n":3}'])
  now += 61_000
  assert.deepEqual(await b.hashes(['h']), [new Map()])
  assert.equal(await b.uniques(['u']), 0)
  assert.deepEqual(await b.nodes(), [])
})

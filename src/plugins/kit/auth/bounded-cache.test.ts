import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BoundedCache } from './bounded-cache.js'

test('BoundedCache never holds more than max entries', () => {
  const c = new BoundedCache<number, number>(10)
  for (let i = 0; i < 1000; i++) {
    c.set(i, i)
    assert.ok(c.size <= 10, `size ${c.size} after ${i}`)
  }
  assert.equal(c.get(999), 999)
  assert.equal(c.get(0), undefined)
})

test('BoundedCache keeps what is used and evicts what is not', () => {
  const c = new BoundedCache<string, number>(4)
  c.set('hot', 1)
  for (let i = 0; i < 50; i++) {
    c.set(`cold${i}`, i)
    assert.equal(c.get('hot'), 1, `hot survives insert ${i}`)
  }
  assert.equal(c.get('cold0'), undefined)
  c.delete('hot')
  assert.equal(c.get('hot'), undefined)
  c.clear()
  assert.equal(c.size, 0)
})

test('BoundedCache refuses a size it cannot honour', () => {
  assert.throws(() => new BoundedCache(1), RangeError)
})

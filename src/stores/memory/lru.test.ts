import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ByteLru } from './lru.js'

const clock = () => {
  const c = { t: 1000, now: () => c.t }
  return c
}

test('evicts the least recently used entries once the byte budget is exceeded', () => {
  const lru = new ByteLru<string>(3 * (100 + 2 + 64))
  lru.set('a', 'A', 100, 10_000)
  lru.set('b', 'B', 100, 10_000)
  lru.set('c', 'C', 100, 10_000)
  assert.equal(lru.get('a'), 'A') // a becomes the most recently used
  lru.set('d', 'D', 100, 10_000)
  assert.equal(lru.get('b'), undefined, 'b was the least recently used')
  assert.deepEqual([lru.get('a'), lru.get('c'), lru.get('d')], ['A', 'C', 'D'])
  assert.equal(lru.stats().entries, 3)
  assert.ok(lru.stats().bytes <= lru.budget)
})

test('entries expire after their ttl; stats drops expired entries', () => {
  const c = clock()
  const lru = new ByteLru<string>(10_000, c.now)
  lru.set('a', 'A', 10, 500)
  lru.set('b', 'B', 10, 2000)
  c.t += 600
  assert.equal(lru.get('a'), undefined)
  assert.equal(lru.get('b'), 'B')
  c.t += 2000
  assert.deepEqual(lru.stats(), { entries: 0, bytes: 0, budget: 10_000 })
})

test('replacing a key replaces its cost; an entry bigger than the budget is not stored', () => {
  const lru = new ByteLru<string>(1000)
  lru.set('a', 'A', 100, 10_000)
  lru.set('a', 'A2', 200, 10_000)
  assert.equal(lru.stats().bytes, 200 + 2 + 64)
  lru.set('huge', 'H', 5000, 10_000)
  assert.equal(lru.get('huge'), undefined)
  assert.equal(lru.get('a'), 'A2', 'a too-large entry evicts nothing')
})

test('lowering the budget evicts at once; delete and clear account bytes', () => {
  const lru = new ByteLru<number>(10_000)
  for (let i = 0; i < 10; i++) lru.set(`k${i}`, i, 500, 10_000)
  lru.budget = 2000
  assert.equal(lru.stats().entries, 3)
  assert.equal(lru.get('k9'), 9)
  assert.equal(lru.delete('k9'), true)
  assert.equal(lru.delete('k9'), false)
  lru.clear()
  assert.deepEqual(lru.stats(), { entries: 0, bytes: 0, budget: 2000 })
})

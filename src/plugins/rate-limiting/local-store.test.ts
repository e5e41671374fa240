import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FIXED, type Limit, TOKEN } from './algorithms.js'
import { LocalCounters } from './local-store.js'

const minute = (n: number): Limit => ({ code: 2, size: 60_000, limit: n, capacity: n, interval: 60_000 / n })

test('the table never holds more than its cap; the oldest key goes first', () => {
  const limits = [minute(1)]
  const store = new LocalCounters(FIXED, 1, 100)
  const out = new Float64Array(4)
  const now = Date.UTC(2024, 0, 1, 0, 0, 30)
  for (let i = 0; i < 250; i++) assert.equal(store.consume(`k${i}`, limits, now, out), true)
  assert.equal(store.size, 100)
  assert.equal(store.evicted, 150)
  // the newest keys are still counted, the oldest were forgotten
  assert.equal(store.consume('k249', limits, now, out), false)
  assert.equal(store.consume('k0', limits, now, out), true)
  store.clear()
})

test('at the cap an expired key makes room before any live key is dropped', () => {
  const limits = [minute(1)]
  const store = new LocalCounters(FIXED, 1, 3)
  const out = new Float64Array(4)
  const t0 = Date.UTC(2024, 0, 1, 0, 0, 30)
  store.consume('old', limits, t0, out)
  const t1 = t0 + 60_000 // 'old' expired with its minute
  store.consume('a', limits, t1, out)
  store.consume('b', limits, t1, out)
  store.consume('c', limits, t1, out)
  assert.equal(store.evicted, 0)
  assert.equal(store.consume('a', limits, t1, out), false, "'a' is still counted")
  store.clear()
})

test('the sweeper drops idle keys in batches and keeps live ones', () => {
  const store = new LocalCounters(TOKEN, 1, 10_000)
  const limits: Limit[] = [{ code: 1, size: 1000, limit: 10, capacity: 10, interval: 100 }]
  const out = new Float64Array(4)
  for (let i = 0; i < 1000; i++) store.consume(`k${i}`, limits, 1_000_000, out)
  // a token bucket's state expires when the bucket is full again (here 100 ms after one request)
  store.consume('busy', limits, 1_000_150, out)
  let dropped = 0
  dropped += store.sweep(1_000_150, 600)
  dropped += store.sweep(1_000_150, 600)
  assert.equal(dropped, 1000)
  assert.equal(store.size, 1)
  store.clear()
  assert.equal(store.size, 0)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffMs, RetryBudget } from './retry.js'

const T0 = 1_000_000

test('backoff: full jitter under a doubling ceiling, capped', () => {
  assert.equal(
    backoffMs(1, () => 0.999),
    24,
  )
  assert.equal(
    backoffMs(2, () => 0.999),
    49,
  )
  assert.equal(
    backoffMs(10, () => 0.999),
    249,
  )
  assert.equal(
    backoffMs(3, () => 0),
    0,
  )
})

test('retry budget: 20 % of requests over 10 s, at least 3 per second', () => {
  let now = T0 * 1000
  const budget = new RetryBudget(() => now)
  let allowed = 0
  for (let i = 0; i < 100; i++) if (budget.tryRetry()) allowed++
  assert.equal(allowed, 30, 'the floor: 3 a second over a 10 s window')
  for (let i = 0; i < 1000; i++) budget.request()
  allowed = 0
  for (let i = 0; i < 1000; i++) if (budget.tryRetry()) allowed++
  assert.equal(allowed, 170, '20 % of 1000 requests, 30 used already')
  assert.equal(budget.exhausted, 70 + 830)
  now += 11_000
  assert.equal(budget.remaining(), 30, 'the window moved on')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { blockWant, grantSize, REDIS_BLOCKS } from './blocks.js'
import { WORKER_BLOCKS } from './node-counters.js'

test('a block asks for its rate over the horizon, at most double the last block or what waits', () => {
  // first question: no rate yet, nothing beyond need
  assert.equal(blockWant(REDIS_BLOCKS, 0, 0, 30, 0, 1_000), 0)
  // a fresh busy key: 1 unit granted, 30 requests piled up during a 2 ms round trip; the
  // cap is twice what waited (60), not twice the last block (4), so no third question
  assert.equal(blockWant(REDIS_BLOCKS, 1_000, 1, 30, 1, 1_002), 60)
  // a steady key: the rate bounds it (20 units over 200 ms → 20 for the next 200 ms)
  assert.equal(blockWant(REDIS_BLOCKS, 1_000, 19, 1, 20, 1_200), 20)
  // a burst after a small block: at most double that block (or 4)
  assert.equal(blockWant(REDIS_BLOCKS, 1_000, 2, 1, 2, 1_001), 4)
  // a worker's blocks stop at the cap whatever waits
  assert.equal(blockWant(WORKER_BLOCKS, 1_000, 1, 100, 1, 1_002), 64)
})

test('a grant is need plus at most half of what is left after it; 1 near the limit', () => {
  assert.equal(grantSize(0, 1, 10), 0)
  assert.equal(grantSize(1, 1, 10), 1)
  assert.equal(grantSize(5, 9, 10), 5)
  assert.equal(grantSize(101, 1, 10), 11)
  assert.equal(grantSize(101, 1, 80), 51)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { consume, FIXED, type Limit, SLIDING, stateSize, TOKEN } from './algorithms.js'
import { PERIODS } from './windows.js'

const limit = (name: string, n: number, capacity = n): Limit => {
  const p = PERIODS.find((x) => x.name === name)!
  return { code: p.code, size: p.size, limit: n, capacity, interval: p.size / n }
}

test('fixed window: exactly L per window, refusals count nothing, resets at the boundary', () => {
  const limits = [limit('minute', 3)]
  const s = new Float64Array(stateSize(FIXED, 1))
  const out = new Float64Array(4)
  const t0 = Date.UTC(2024, 0, 1, 10, 0, 10)
  const verdicts = [0, 1, 2, 3, 4].map((i) => consume(FIXED, limits, s, 0, t0 + i, out))
  assert.deepEqual(verdicts, [true, true, true, false, false])
  assert.equal(s[2], 3, 'refused requests were not counted')
  assert.deepEqual([...out], [1, 50_000 - 4, 0, 50_000 - 4])
  assert.equal(consume(FIXED, limits, s, 0, Date.UTC(2024, 0, 1, 10, 1), out), true)
  assert.equal(out[2], 2)
})

test('sliding window: the previous window weighs in by the share still inside', () => {
  const limits = [limit('minute', 10)]
  const s = new Float64Array(stateSize(SLIDING, 1))
  const out = new Float64Array(4)
  const t0 = Date.UTC(2024, 0, 1, 10, 0, 0)
  for (let i = 0; i < 10; i++) assert.equal(consume(SLIDING, limits, s, 0, t0 + 59_000, out), true)
  assert.equal(consume(SLIDING, limits, s, 0, t0 + 59_000, out), false)
  // 15 s into the next minute the previous 10 count as 7.5: two more fit (7.5 + 2 + 1 > 10 refuses the third)
  const t1 = t0 + 75_000
  assert.equal(consume(SLIDING, limits, s, 0, t1, out), true)
  assert.equal(consume(SLIDING, limits, s, 0, t1, out), true)
  assert.equal(consume(SLIDING, limits, s, 0, t1, out), false)
  // the wait it announces is when the next one fits: 7.5 must fall to 7 → at 18 s
  assert.equal(out[1], 3_000)
  assert.equal(consume(SLIDING, limits, s, 0, t1 + out[1]!, out), true)
})

test('token bucket: burst at once, then the rate; a refusal says when the next token comes', () => {
  const limits = [limit('second', 10, 20)]
  const s = new Float64Array(stateSize(TOKEN, 1))
  const out = new Float64Array(4)
  const t0 = 1_000_000
  let admitted = 0
  for (let i = 0; i < 50; i++) if (consume(TOKEN, limits, s, 0, t0, out)) admitted++
  assert.equal(admitted, 20)
  assert.equal(out[1], 100, 'one token per 100 ms')
  assert.equal(consume(TOKEN, limits, s, 0, t0 + 99, out), false)
  assert.equal(consume(TOKEN, limits, s, 0, t0 + 100, out), true)
  assert.equal(out[2], 0)
  // over 10 s at the rate: 10/s exactly, nothing saved up beyond the burst
  admitted = 0
  for (let t = t0 + 101; t <= t0 + 10_101; t += 10) if (consume(TOKEN, limits, s, 0, t, out)) admitted++
  assert.equal(admitted, 100)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_HIGHEST_US, Histogram } from './histogram.js'

/** A seeded generator, so the distributions (and any failure) are the same on every run. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Nearest-rank percentile of sorted integers: what the histogram approximates. */
const exact = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!

function assertWithin(actual: number, expected: number, relative: number, what: string): void {
  const err = Math.abs(actual - expected) / expected
  assert.ok(err <= relative, `${what}: ${actual} vs ${expected} (${(err * 100).toFixed(3)} % off)`)
}

function check(values: number[], label: string): void {
  const h = new Histogram()
  for (const v of values) h.record(v)
  const sorted = values.map((v) => Math.round(v)).sort((a, b) => a - b)
  for (const p of [1, 10, 25, 50, 75, 90, 95, 99, 99.9]) {
    assertWithin(h.percentile(p), exact(sorted, p), 0.01, `${label} p${p}`)
  }
  assert.equal(h.count, values.length)
  assert.equal(h.min, sorted[0])
  assert.equal(h.max, sorted.at(-1))
  assertWithin(h.mean(), sorted.reduce((a, b) => a + b, 0) / sorted.length, 1e-9, `${label} mean`)
}

test('percentiles of a uniform distribution from 1 µs to 1 s are within 1 %', () => {
  const rand = mulberry32(1)
  check(
    Array.from({ length: 200_000 }, () => 1 + Math.floor(rand() * 1_000_000)),
    'uniform',
  )
})

test('percentiles of a long-tailed (log-normal) latency distribution are within 1 %', () => {
  const rand = mulberry32(7)
  // Box–Muller: median ~2 ms, a tail reaching into seconds, like a real service under load
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  check(
    Array.from({ length: 100_000 }, () =>
      Math.min(DEFAULT_HIGHEST_US, Math.exp(Math.log(2000) + 1.2 * normal())),
    ),
    'log-normal',
  )
})

test('values below 256 µs are exact', () => {
  const h = new Histogram()
  for (let v = 0; v < 256; v++) h.record(v)
  assert.equal(h.percentile(50), 127)
  assert.equal(h.percentile(100), 255)
  assert.equal(h.percentile(0), 0)
})

test('the bucket boundaries are contiguous: every value lands within 0.4 % of itself', () => {
  const h = new Histogram()
  for (let v = 256; v < 5_000_000; v = Math.ceil(v * 1.003) + 1) {
    h.reset()
    // 0 and the top value widen [min, max] so the median is the bucket's own figure, unclamped
    h.record(0)
    for (let k = 0; k < 3; k++) h.record(v)
    h.record(DEFAULT_HIGHEST_US)
    assertWithin(h.percentile(50), v, 0.004, `value ${v}`)
  }
})

test('values over the highest share the top bucket but max stays exact; junk counts as 0', () => {
  const h = new Histogram()
  h.record(120_000_000)
  h.record(-5)
  h.record(Number.NaN)
  assert.equal(h.count, 3)
  assert.equal(h.max, 120_000_000)
  assert.equal(h.min, 0)
  assert.equal(h.percentile(100), 120_000_000)
})

test('reset empties in place, add merges, stats scale to ms', () => {
  const a = new Histogram()
  const b = new Histogram()
  for (let v = 1000; v <= 2000; v++) a.record(v)
  for (let v = 3000; v <= 4000; v++) b.record(v)
  a.add(b)
  assert.equal(a.count, 2002)
  assert.equal(a.min, 1000)
  assert.equal(a.max, 4000)
  const s = a.stats(1000)
  assert.equal(s.min, 1)
  assert.equal(s.max, 4)
  assertWithin(s.p50, 2, 0.01, 'p50 ms')
  b.reset()
  assert.equal(b.count, 0)
  assert.ok(Number.isNaN(b.percentile(50)))
  assert.ok(Number.isNaN(b.stats().mean))
  assert.throws(() => a.add(new Histogram(1_000_000)), /different ranges/)
  assert.throws(() => new Histogram(10), RangeError)
})

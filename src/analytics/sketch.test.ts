import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HyperLogLog } from './hll.js'
import { addValue, mergeBins, quantile, RELATIVE_ACCURACY } from './sketch.js'
import { largest, SpaceSaving } from './top.js'

/** the nearest-rank quantile the sketch approximates */
const exact = (sorted: number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))]!

test('sketch quantiles stay within 1 % of the exact ones, on a skewed stream', () => {
  const values: number[] = []
  let seed = 42
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  for (let i = 0; i < 20_000; i++) values.push(0.2 + -Math.log(1 - rand()) * 40 + (i % 97 === 0 ? 900 : 0))
  const bins = new Map<number, number>()
  for (const v of values) addValue(bins, v)
  const sorted = [...values].sort((a, b) => a - b)
  for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
    const err = Math.abs(quantile(bins, q) - exact(sorted, q)) / exact(sorted, q)
    assert.ok(err <= RELATIVE_ACCURACY, `q=${q}: relative error ${err}`)
  }
})

test('merged sketches answer as one sketch of both streams', () => {
  const a = new Map<number, number>()
  const b = new Map<number, number>()
  const both = new Map<number, number>()
  for (let i = 1; i <= 1000; i++) {
    addValue(i % 2 ? a : b, i)
    addValue(both, i)
  }
  mergeBins(a, b)
  assert.deepEqual([...a].sort(), [...both].sort())
  assert.ok(Number.isNaN(quantile(new Map(), 0.5)))
})

test('HyperLogLog counts 10,000 and 100,000 distinct items within 2 %', () => {
  for (const n of [10_000, 100_000]) {
    const h = new HyperLogLog()
    for (let i = 0; i < n; i++) h.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
    for (let i = 0; i < n; i++) h.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`) // repeats change nothing
    assert.ok(Math.abs(h.count() - n) / n < 0.02, `${n}: ${h.count()}`)
  }
  const x = new HyperLogLog()
  const y = new HyperLogLog()
  for (let i = 0; i < 5000; i++) (i < 3000 ? x : y).add(`c${i}`)
  x.merge(y)
  assert.ok(Math.abs(x.count() - 5000) / 5000 < 0.02)
})

test('Space-Saving keeps the heavy hitters in bounded counters', () => {
  const ss = new SpaceSaving(20)
  for (let i = 0; i < 5000; i++) {
    ss.add(`/noise/${i}`)
    if (i % 5 === 0) ss.add('/heavy')
    if (i % 10 === 0) ss.add('/medium')
  }
  assert.equal(ss.counts.size, 20)
  const top = largest(ss.counts, 2)
  assert.equal(top[0]![0], '/heavy')
  assert.ok(top[0]![1] >= 1000) // never under the true count
  assert.equal(top[1]![0], '/medium')
})

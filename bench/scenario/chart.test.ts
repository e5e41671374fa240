import assert from 'node:assert/strict'
import { test } from 'node:test'
import { niceScale, renderChart } from './chart.js'

test('axis scales are round and cover the largest value', () => {
  assert.deepEqual(niceScale(4.2), { top: 5, step: 1 })
  assert.deepEqual(niceScale(123), { top: 125, step: 25 })
  assert.deepEqual(niceScale(1000), { top: 1000, step: 200 })
  assert.deepEqual(niceScale(0), { top: 1, step: 0.2 })
  for (const max of [0.07, 3, 17, 250, 999, 12345]) {
    const { top, step } = niceScale(max)
    assert.ok(top >= max && top / step <= 6, `${max}: ${top}/${step}`)
  }
})

test('the chart names every run, labels both axes, and escapes text', () => {
  const svg = renderChart('A <b> & c', 'sub', [
    { name: 'baseline', rate: 100, latency: { avg: 10, p50: 8, p90: 20, p95: 25, p99: 40 } },
    { name: 'optimized', rate: 300, latency: { avg: 2, p50: 1, p90: 5, p95: 7, p99: 12 } },
  ])
  assert.ok(svg.includes('A &lt;b&gt; &amp; c'))
  assert.equal((svg.match(/<rect /g) ?? []).length, 1 + 10 + 2 + 2) // background, 5×2 latency, 2 throughput, 2 legend
  for (const s of [
    '>baseline<',
    '>optimized<',
    '>milliseconds<',
    '>requests per second<',
    '>p99<',
    '>300<',
    '>40.0<',
  ])
    assert.ok(svg.includes(s), s)
})

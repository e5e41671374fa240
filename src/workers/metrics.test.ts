import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MetricsMerger, parseExposition } from './metrics.js'

const worker = (requests: number, bucket: number, gauge: number) => `# HELP req_total Requests
# TYPE req_total counter
req_total{code="200"} ${requests}
# HELP lat_ms Latency
# TYPE lat_ms histogram
lat_ms_bucket{le="10"} ${bucket}
lat_ms_bucket{le="+Inf"} ${bucket}
lat_ms_sum ${bucket * 2}
lat_ms_count ${bucket}
# HELP conns Connections
# TYPE conns gauge
conns ${gauge}
# HELP process_cpu_seconds_total CPU
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 0.5
`

test('counters and histograms are summed, gauges and process readings labelled per worker', () => {
  const m = new MetricsMerger()
  const text = m.merge([
    { slot: 2, parsed: parseExposition(worker(3, 1, 7)) },
    { slot: 1, parsed: parseExposition(worker(5, 2, 4)) },
  ])
  assert.match(text, /^req_total\{code="200"\} 8$/m)
  assert.match(text, /^lat_ms_bucket\{le="10"\} 3$/m)
  assert.match(text, /^lat_ms_sum 6$/m)
  assert.match(text, /^lat_ms_count 3$/m)
  assert.match(text, /^conns\{worker="1"\} 4$/m)
  assert.match(text, /^conns\{worker="2"\} 7$/m)
  assert.match(text, /^process_cpu_seconds_total\{worker="1"\} 0.5$/m)
  assert.equal(text.match(/# TYPE req_total counter/g)?.length, 1)
})

test('a retired worker keeps its counters in the sum; its gauges leave', () => {
  const m = new MetricsMerger()
  const first = parseExposition(worker(10, 4, 1))
  assert.match(m.merge([{ slot: 1, parsed: first }]), /^req_total\{code="200"\} 10$/m)
  m.retire(first)
  // its replacement starts from zero
  const text = m.merge([{ slot: 1, parsed: parseExposition(worker(2, 1, 9)) }])
  assert.match(text, /^req_total\{code="200"\} 12$/m)
  assert.match(text, /^lat_ms_count 5$/m)
  assert.match(text, /^conns\{worker="1"\} 9$/m)
  assert.doesNotMatch(text, /conns\{worker="1"\} 1$/m)
})

test('workers being replaced add their counters only', () => {
  const m = new MetricsMerger()
  const text = m.merge(
    [{ slot: 1, parsed: parseExposition(worker(1, 1, 3)) }],
    [parseExposition(worker(4, 1, 8))],
  )
  assert.match(text, /^req_total\{code="200"\} 5$/m)
  assert.doesNotMatch(text, /conns\{worker="1"\} 8/)
})

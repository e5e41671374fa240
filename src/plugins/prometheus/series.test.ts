import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GATEWAY_BUCKETS, LatencyHistogram, RouteSeries } from './series.js'

test('histogram buckets follow Prometheus le: a value on a bound counts in that bucket', () => {
  const h = new LatencyHistogram(GATEWAY_BUCKETS)
  for (const v of [0.2, 1, 1.01, 5, 999, 1000, 1000.5, 60_000]) h.observe(v)
  const at = (le: number) => h.counts[GATEWAY_BUCKETS.indexOf(le)]
  assert.equal(at(1), 2) // 0.2, 1
  assert.equal(at(2), 1) // 1.01
  assert.equal(at(5), 1)
  assert.equal(at(1000), 2) // 999, 1000
  assert.equal(at(3000), 1) // 1000.5 (Kong 3.x's buckets go on to 3000 and 6000)
  assert.equal(h.counts[GATEWAY_BUCKETS.length], 1) // +Inf: 60000
  assert.equal(h.count, 8)
  assert.equal(h.sum, 0.2 + 1 + 1.01 + 5 + 999 + 1000 + 1000.5 + 60_000)
})

test('status counts by source and consumer; bytes by consumer', () => {
  const rs = new RouteSeries('svc', 'route')
  rs.countStatus(200, 'service', '')
  rs.countStatus(200, 'service', 'alice')
  rs.countStatus(200, 'kong', 'alice')
  rs.countStatus(429, 'kong', '')
  assert.equal(rs.statuses.get(200)!.service, 1)
  assert.deepEqual(rs.statuses.get(200)!.consumers!.get('alice'), [1, 1])
  assert.equal(rs.statuses.get(429)!.kong, 1)
  rs.addBytes('', 10, 20)
  rs.addBytes('bob', 1, 2)
  rs.addBytes('bob', 1, 2)
  assert.deepEqual(rs.bytes, { ingress: 10, egress: 20 })
  assert.deepEqual(rs.consumerBytes.get('bob'), { ingress: 2, egress: 4 })
})

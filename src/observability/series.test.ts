import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GATEWAY_BUCKETS, LatencyHistogram, NodeTotals, RouteSeries } from './series.js'

test('histogram buckets follow Prometheus le: a value on a bound counts in that bucket', () => {
  const h = new LatencyHistogram(GATEWAY_BUCKETS)
  for (const v of [0.2, 1, 1.01, 5, 999, 1000, 1000.5, 60_000]) h.observe(v)
  const at = (le: number) => h.counts[GATEWAY_BUCKETS.indexOf(le)]
  assert.equal(at(1), 2) // 0.2, 1
  assert.equal(at(2), 1) // 1.01
  assert.equal(at(5), 1)
  assert.equal(at(1000), 2) // 999, 1000
  assert.equal(h.counts[GATEWAY_BUCKETS.length], 2) // +Inf: 1000.5, 60000
  assert.equal(h.count, 8)
  assert.equal(h.sum, 0.2 + 1 + 1.01 + 5 + 999 + 1000 + 1000.5 + 60_000)
})

test('status counts by source and consumer; bytes by consumer; node totals by class', () => {
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

  const t = new NodeTotals()
  for (const s of [101, 200, 204, 301, 404, 499, 503, 0, 600]) t.count(s, 1, 2)
  assert.deepEqual([...t.classes], [2, 1, 2, 1, 2, 1])
  assert.equal(t.ingress, 9)
  assert.equal(t.egress, 18)
})

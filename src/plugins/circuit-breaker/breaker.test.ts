import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type BreakerState, LocalBreaker, thresholdsOf } from './breaker.js'
import { schema } from './schema.js'
import { address } from './targets.js'

const T0 = 1_000_000

function breaker(config: Record<string, unknown> = {}) {
  const seen: Array<[BreakerState, BreakerState]> = []
  const t = thresholdsOf(
    schema.parse({
      minimum_calls: 4,
      failure_rate_threshold: 50,
      open_seconds: 1,
      max_open_seconds: 3,
      half_open_calls: 2,
      ...config,
    }),
  )
  return { b: new LocalBreaker(t, (from, to) => seen.push([from, to])), seen }
}

test('schema: every field has its default', () => {
  const c = schema.parse({})
  assert.deepEqual(
    {
      window: c.window_seconds,
      min: c.minimum_calls,
      rate: c.failure_rate_threshold,
      statuses: c.failure_statuses,
      slow: c.slow_call_ms,
      slowRate: c.slow_call_rate_threshold,
      open: c.open_seconds,
      max: c.max_open_seconds,
      half: c.half_open_calls,
      scope: c.scope,
      policy: c.policy,
      status: c.response.status,
    },
    {
      window: 10,
      min: 20,
      rate: 50,
      statuses: [500, 502, 503, 504],
      slow: 0,
      slowRate: 100,
      open: 30,
      max: 300,
      half: 5,
      scope: 'service',
      policy: 'local',
      status: 503,
    },
  )
  assert.equal(schema.safeParse({ open_seconds: 60, max_open_seconds: 30 }).success, false)
})

test('closed → open at the failure rate, only with minimum_calls in the window', () => {
  const { b, seen } = breaker()
  b.record(T0, true, false, false)
  b.record(T0, true, false, false)
  b.record(T0, true, false, false)
  assert.equal(b.state, 'closed', 'three calls: under minimum_calls')
  b.record(T0, false, false, false)
  assert.equal(b.state, 'open', '3 of 4 failed: 75 % ≥ 50 %')
  assert.deepEqual(seen, [['closed', 'open']])
  assert.equal(b.admit(T0 + 10), 'reject')
  assert.equal(b.remainingMs(T0 + 10), 990)
  assert.equal(b.counters.rejected, 1)
})

test('the window slides: old failures drop out', () => {
  const { b } = breaker({ window_seconds: 2 })
  b.record(T0, true, false, false)
  b.record(T0, true, false, false)
  b.record(T0, true, false, false)
  // three seconds later the failures are out of a 2 s window
  for (let i = 0; i < 3; i++) b.record(T0 + 3000, false, false, false)
  b.record(T0 + 3000, true, false, false)
  assert.equal(b.state, 'closed', '1 failure of 4 in the window')
})

test('open → half-open → closed after half_open_calls successes', () => {
  const { b, seen } = breaker()
  for (let i = 0; i < 4; i++) b.record(T0, true, false, false)
  assert.equal(b.state, 'open')
  assert.equal(b.refuses(T0 + 999), true)
  assert.equal(b.refuses(T0 + 1000), false, 'a pure check: trial calls may start')
  assert.equal(b.state, 'open', 'refuses changes nothing')
  assert.equal(b.admit(T0 + 1000), 'trial')
  assert.equal(b.state, 'half_open')
  assert.equal(b.admit(T0 + 1001), 'trial')
  assert.equal(b.admit(T0 + 1002), 'reject', 'half_open_calls: 2')
  assert.equal(b.refuses(T0 + 1002), true)
  b.record(T0 + 1010, false, false, true)
  assert.equal(b.state, 'half_open')
  b.record(T0 + 1010, false, false, true)
  assert.equal(b.state, 'closed')
  assert.deepEqual(seen, [
    ['closed', 'open'],
    ['open', 'half_open'],
    ['half_open', 'closed'],
  ])
  // the window was cleared: one more failure does not reopen it
  b.record(T0 + 1020, true, false, false)
  assert.equal(b.state, 'closed')
})

test('a failed trial reopens for twice as long, up to max_open_seconds; closing resets it', () => {
  const { b } = breaker()
  for (let i = 0; i < 4; i++) b.record(T0, true, false, false)
  let now = T0 + 1000
  assert.equal(b.admit(now), 'trial')
  b.record(now, true, false, true)
  assert.equal(b.state, 'open')
  assert.equal(b.remainingMs(now), 2000)
  now += 2000
  assert.equal(b.admit(now), 'trial')
  b.record(now, true, false, true)
  assert.equal(b.remainingMs(now), 3000, '4 s capped at max_open_seconds 3')
  now += 3000
  b.admit(now)
  b.admit(now)
  b.record(now, false, false, true)
  b.record(now, false, false, true)
  assert.equal(b.state, 'closed')
  assert.equal(b.openMs, 1000, 'back to open_seconds')
})

test('a trial that never ran is given back; a trial lost on the way comes back after a window', () => {
  const { b } = breaker({ half_open_calls: 1, window_seconds: 2 })
  for (let i = 0; i < 4; i++) b.record(T0, true, false, false)
  assert.equal(b.admit(T0 + 1000), 'trial')
  assert.equal(b.admit(T0 + 1000), 'reject')
  b.release()
  assert.equal(b.admit(T0 + 1001), 'trial')
  assert.equal(b.refuses(T0 + 1500), true)
  assert.equal(b.refuses(T0 + 3500), false, 'unreported for longer than the window')
})

test('slow calls open the breaker at slow_call_rate_threshold', () => {
  const { b } = breaker({ slow_call_ms: 100, slow_call_rate_threshold: 50 })
  b.record(T0, false, true, false)
  b.record(T0, false, true, false)
  b.record(T0, false, false, false)
  assert.equal(b.state, 'closed')
  b.record(T0, false, false, false)
  assert.equal(b.state, 'open', '2 slow of 4: 50 %')
  const off = breaker({ slow_call_ms: 0 }).b
  for (let i = 0; i < 10; i++) off.record(T0, false, true, false)
  assert.equal(off.state, 'closed', 'slow_call_ms 0: slow calls are not looked at')
})

test('a slow trial call counts as a failed one', () => {
  const { b } = breaker({ slow_call_ms: 100 })
  for (let i = 0; i < 4; i++) b.record(T0, true, false, false)
  b.admit(T0 + 1000)
  b.record(T0 + 1000, false, true, true)
  assert.equal(b.state, 'open')
})

test('forced open holds until closed; reconfigure keeps the state', () => {
  const { b } = breaker()
  b.force(true, T0)
  assert.equal(b.state, 'forced_open')
  assert.equal(b.admit(T0 + 100_000), 'reject')
  b.reconfigure(thresholdsOf(schema.parse({ minimum_calls: 100 })))
  assert.equal(b.state, 'forced_open')
  b.force(false, T0)
  assert.equal(b.state, 'closed')
  assert.equal(b.admit(T0), 'pass')
})

test('target addresses as the balancer writes them', () => {
  assert.equal(address('Users-1:8080'), 'users-1:8080')
  assert.equal(address('example.com'), 'example.com:8000')
  assert.equal(address('[::1]:81'), '[::1]:81')
  assert.equal(address('::1'), '[::1]:8000')
  assert.equal(address('10.0.0.1', 80), '10.0.0.1:80')
})

test('a batch of outcomes (a worker’s) is judged on the window as it holds the whole batch', () => {
  const { b, seen } = breaker()
  // 3 calls, 1 failed: under minimum_calls
  b.recordMany(T0, 3, 1, 0)
  assert.equal(b.state, 'closed')
  // 4 more, 0 failed: 1 of 7 failed, 14 %
  b.recordMany(T0 + 10, 4, 0, 0)
  assert.equal(b.state, 'closed')
  // 3 more, all failed: 4 of 10, 40 %
  b.recordMany(T0 + 20, 3, 3, 0)
  assert.equal(b.state, 'closed')
  // 2 more failed: 6 of 12, 50 %
  b.recordMany(T0 + 30, 2, 2, 0)
  assert.equal(b.state, 'open')
  assert.deepEqual(seen, [['closed', 'open']])
  assert.deepEqual({ calls: b.counters.calls, failures: b.counters.failures }, { calls: 12, failures: 6 })
  // outcomes of calls sent before it opened are not counted in the window
  b.recordMany(T0 + 40, 5, 5, 0)
  assert.equal(b.window.totals(T0 + 40).calls, 12)
})

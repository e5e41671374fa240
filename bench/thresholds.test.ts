import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Recorder } from './recorder.js'
import { evaluateThresholds, parseThreshold, ThresholdError } from './thresholds.js'

/**
 * A result built from known samples through the real recorder, no network: 100 responses of
 * 1..100 ms (the 96th–100th are 500s), 2 network errors, 3 drops, one check passing 90 times,
 * over 10 s.
 */
function knownResult() {
  const rec = new Recorder(0, ['ok'])
  for (let ms = 1; ms <= 100; ms++) {
    rec.started(0)
    rec.response(ms, ms > 95 ? 500 : 200, ms <= 95, ms * 1000, ms * 1000)
    rec.checks[0]![ms <= 90 ? 'passes' : 'fails']++
  }
  for (let k = 0; k < 2; k++) {
    rec.started(0)
    rec.error(200, 'ECONNRESET')
  }
  for (let k = 0; k < 3; k++) rec.drop(300)
  const facts = {
    mode: 'open',
    target: 'GET x',
    vus: 10,
    targetRate: 12,
    duration: 10,
    aborted: false,
  } as const
  return rec.result(10_000, facts)
}

test('parses the forms k6 users write', () => {
  const cases: [string, string, string, number][] = [
    ['p95<200', 'p(95)', '<', 200],
    ['p(99)<=500', 'p(99)', '<=', 500],
    ['p(99.9) < 1s', 'p(99.9)', '<', 1000],
    ['avg<100', 'avg', '<', 100],
    ['med<50ms', 'med', '<', 50],
    ['max<1000', 'max', '<', 1000],
    ['min>=250us', 'min', '>=', 0.25],
    ['failed<0.001', 'failed', '<', 0.001],
    ['failed<1%', 'failed', '<', 0.01],
    ['rate>100', 'rate', '>', 100],
    ['checks>0.99', 'checks', '>', 0.99],
    ['dropped==0', 'dropped', '==', 0],
    ['http_req_duration:p(95)<200', 'p(95)', '<', 200],
    ['http_req_failed:rate<0.01', 'failed', '<', 0.01],
    ['http_reqs:rate>=50', 'rate', '>=', 50],
    ['http_reqs:count>10', 'requests', '>', 10],
    ['checks:rate>0.9', 'checks', '>', 0.9],
    ['http_req_service_time:p99<20', 'service p(99)', '<', 20],
  ]
  for (const [expr, stat, op, limit] of cases) {
    const t = parseThreshold(expr)
    assert.equal(t.stat, stat, expr)
    assert.equal(t.op, op, expr)
    assert.ok(Math.abs(t.limit - limit) < 1e-12, `${expr}: ${t.limit}`)
  }
})

test('malformed thresholds are errors that say what is expected', () => {
  const bad: [string, RegExp][] = [
    ['p95<<200', /expected e\.g\. p95<200/],
    ['p95 200', /expected/],
    ['', /expected/],
    ['p96x<1', /expected/],
    ['p(101)<5', /percentile 101 is not in 0–100/],
    ['latency<5', /unknown measure "latency"/],
    ['max5<1', /unknown measure/],
    ['failed<5ms', /unit "ms" does not apply to failed/],
    ['rate>5%', /unit "%" does not apply to rate/],
    ['http_req_failed:p95<1', /unknown measure "http_req_failed:p95"/],
  ]
  for (const [expr, message] of bad) {
    assert.throws(
      () => parseThreshold(expr),
      (err: unknown) =>
        err instanceof ThresholdError && message.test(err.message) && err.message.includes(expr),
      expr,
    )
  }
})

test('evaluates against a result: values in their units, verdicts both ways', () => {
  const r = knownResult()
  const byExpr = Object.fromEntries(
    evaluateThresholds(
      [
        'p95<200',
        'p95<50',
        'p(50)<=51',
        'avg<60',
        'max<100',
        'min==1',
        'failed<0.1',
        'failed<0.01',
        'rate>10',
        'rate>11',
        'checks>=0.9',
        'checks>0.95',
        'dropped<3',
        'requests==102',
      ],
      r,
    ).map((v) => [v.threshold, v]),
  )
  const verdict = (e: string) => byExpr[e]!.ok
  assert.ok(verdict('p95<200') && !verdict('p95<50') && verdict('p(50)<=51'))
  assert.ok(verdict('avg<60') && !verdict('max<100') && verdict('min==1'))
  // 5 bad statuses + 2 network errors of 102 finished
  assert.ok(Math.abs(byExpr['failed<0.1']!.value - 7 / 102) < 1e-12)
  assert.ok(verdict('failed<0.1') && !verdict('failed<0.01'))
  assert.equal(byExpr['rate>10']!.value, 10.2)
  assert.ok(verdict('rate>10') && !verdict('rate>11'))
  assert.ok(verdict('checks>=0.9') && !verdict('checks>0.95'))
  assert.ok(!verdict('dropped<3') && verdict('requests==102'))
  assert.equal(byExpr['p95<200']!.unit, 'ms')
  assert.equal(byExpr['failed<0.1']!.unit, 'ratio')
})

test('a figure that cannot be measured fails the threshold rather than passing it', () => {
  const rec = new Recorder(0, [])
  const empty = rec.result(1000, {
    mode: 'closed',
    target: 'x',
    vus: 1,
    targetRate: null,
    duration: 1,
    aborted: false,
  })
  const [p95, checks, neq] = evaluateThresholds(['p95<1000', 'checks>0', 'avg!=5'], empty)
  assert.ok(Number.isNaN(p95!.value) && !p95!.ok)
  assert.ok(!checks!.ok)
  assert.ok(!neq!.ok)
})

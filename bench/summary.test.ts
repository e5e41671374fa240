import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Recorder, type RunFacts } from './recorder.js'
import { formatBytes, formatDuration, formatSpan, formatSummary, toJSON } from './summary.js'
import { evaluateThresholds } from './thresholds.js'

/** 40 responses of 1..40 ms (the last 4 are 500s), then a refused connection and 3 drops, over 2 s. */
function knownResult() {
  const rec = new Recorder(0, ['status is 200', 'has body'])
  for (let ms = 1; ms <= 40; ms++) {
    rec.started(10)
    rec.bytesReceived += 100
    rec.response(ms * 40, ms > 36 ? 500 : 200, ms <= 36, ms * 1000, ms * 900)
    rec.checks[0]![ms <= 36 ? 'passes' : 'fails']++
    rec.checks[1]!.passes++
  }
  rec.started(0)
  rec.error(1700, 'ECONNREFUSED')
  for (let k = 0; k < 3; k++) rec.drop(1800)
  const facts: RunFacts = {
    mode: 'open',
    target: 'GET http://x/',
    vus: 5,
    targetRate: 22,
    duration: 2,
    aborted: false,
  }
  return rec.result(2000, facts)
}

test('figures are formatted as k6 prints them', () => {
  assert.equal(formatDuration(0.5123), '512.30µs')
  assert.equal(formatDuration(12.345), '12.35ms')
  assert.equal(formatDuration(1200), '1.20s')
  assert.equal(formatDuration(123_000), '2m3s')
  assert.equal(formatDuration(Number.NaN), '-')
  assert.equal(formatBytes(512), '512 B')
  assert.equal(formatBytes(39_800), '39.8 kB')
  assert.equal(formatBytes(1_250_000), '1.3 MB')
  assert.deepEqual([0.5, 1.5, 30, 120, 90].map(formatSpan), ['500ms', '1.5s', '30s', '2m', '1m30s'])
})

test('the text summary has the scenario, checks, aligned metrics and thresholds', () => {
  const r = knownResult()
  const text = formatSummary(r, evaluateThresholds(['p95<100', 'failed<0.01'], r))
  const lines = text.split('\n')
  assert.ok(lines.includes('  scenario: open loop, 22 req/s for 2s (max 5 VUs)'))
  assert.ok(lines.includes('  target:   GET http://x/'))
  assert.ok(lines.includes('  ✓ has body'))
  assert.ok(lines.some((l) => /^ {2}✗ status is 200 {2}90\.00% — ✓ 36 \/ ✗ 4$/.test(l)))

  const metric = (name: string) => lines.find((l) => l.startsWith(`  ${name}.`))
  assert.match(metric('http_reqs')!, /: 41 +20\.50\/s$/)
  assert.match(metric('http_req_failed')!, /: 12\.20% +5 out of 41$/)
  assert.match(metric('checks')!, /: 95\.00% +76 out of 80$/)
  assert.match(metric('dropped_iterations')!, /: 3 +1\.50\/s$/)
  assert.match(metric('data_received')!, /: 4\.0 kB +2\.0 kB\/s$/)
  assert.match(metric('data_sent')!, /: 400 B +200 B\/s$/)
  assert.match(metric('http_req_duration')!, /avg=20\.50ms min=1\.00ms med=20\.\d+ms max=40\.00ms p\(90\)=/)
  assert.match(metric('http_req_service_time')!, /max=36\.00ms/)
  assert.match(metric('network_errors')!, /: 1 +ECONNREFUSED=1$/)
  assert.match(metric('status_codes')!, /: 200=36 500=4$/)
  // every metric's value starts in the same column
  const starts = lines.filter((l) => /^ {2}[a-z_]+\.+: /.test(l)).map((l) => l.indexOf(': '))
  assert.equal(new Set(starts).size, 1)

  assert.ok(lines.includes('  thresholds'))
  assert.ok(lines.some((l) => /^ {4}✓ p95<100 \.+ p\(95\)=3\d\.\d\dms$/.test(l)))
  assert.ok(lines.some((l) => /^ {4}✗ failed<0\.01 \.* failed=12\.20%$/.test(l)))
})

test('a closed loop shows no open-loop lines', () => {
  const rec = new Recorder(0, [])
  rec.started(0)
  rec.response(5, 200, true, 5000, 5000)
  const facts: RunFacts = {
    mode: 'closed',
    target: 'GET http://x/',
    vus: 3,
    targetRate: null,
    duration: 30,
    aborted: true,
  }
  const text = formatSummary(rec.result(1000, facts))
  assert.match(text, /closed loop, 3 VUs for 30s — stopped early/)
  assert.doesNotMatch(text, /dropped_iterations|service_time|thresholds|checks/)
})

test('the JSON report is plain data: no histograms, rounded figures, null for the unmeasurable', () => {
  const r = knownResult()
  const report = JSON.parse(JSON.stringify(toJSON(r, evaluateThresholds(['p95<100'], r))))
  assert.equal(report.version, 1)
  assert.equal('histograms' in report, false)
  assert.equal(report.requests, 41)
  assert.equal(report.failureRate, 0.121951)
  assert.equal(report.latency.mean, 20.5)
  assert.deepEqual(report.statusCounts, { '200': 36, '500': 4 })
  assert.deepEqual(
    report.timeline.map((p: { requests: number }) => p.requests),
    [24, 17],
  )
  assert.equal(report.thresholds[0].ok, true)
  const empty = new Recorder(0, []).result(1, { ...r, targetRate: null, mode: 'closed' })
  assert.equal(JSON.parse(JSON.stringify(toJSON(empty))).latency.p95, null)
})

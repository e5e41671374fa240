import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createProgressBar, formatProgress } from './progress.js'
import type { ProgressSnapshot } from './recorder.js'

const snap = (over: Partial<ProgressSnapshot>): ProgressSnapshot => ({
  elapsed: 0,
  duration: 10,
  requests: 0,
  completed: 0,
  errors: 0,
  failed: 0,
  dropped: 0,
  inFlight: 0,
  rate: 0,
  p95: Number.NaN,
  final: false,
  ...over,
})

function sink(isTTY: boolean) {
  const writes: string[] = []
  return { isTTY, columns: 100, writes, write: (s: string) => writes.push(s) }
}

test('the progress line shows phase, bar, time, rate, p95, errors and drops', () => {
  const s = snap({
    elapsed: 5,
    requests: 1000,
    completed: 990,
    errors: 10,
    failed: 20,
    rate: 200.4,
    p95: 12.345,
  })
  const line = formatProgress(s, 10)
  assert.equal(line, 'running   [=====>    ]  5.0s/10s  200 req/s  p95 12.35ms  errors 20 (2.00%)')
  assert.match(formatProgress({ ...s, dropped: 3 }, 0), /^running +5\.0s\/10s .* dropped 3$/)
  assert.match(formatProgress({ ...s, elapsed: 10.5, inFlight: 2 }, 4), /^stopping +\[====\] {2}11s\/10s/)
  assert.match(formatProgress({ ...s, final: true }, 0), /^done /)
  assert.match(formatProgress(snap({}), 0), /p95 - {2}errors 0 \(0\.00%\)/)
})

test('on a TTY the line is redrawn in place and ended once', () => {
  const out = sink(true)
  const bar = createProgressBar(out)
  bar.update(snap({ elapsed: 1 }))
  bar.update(snap({ elapsed: 2 }))
  bar.update(snap({ elapsed: 10, final: true }))
  bar.done()
  bar.done()
  assert.equal(out.writes.length, 4)
  assert.ok(out.writes.every((w) => w.startsWith('\r') && w.includes('\x1b[K')))
  assert.ok(out.writes.slice(0, 3).every((w) => !w.includes('\n')))
  assert.match(out.writes[3]!, /^\rdone .*\n$/)
  bar.update(snap({ elapsed: 11 }))
  assert.equal(out.writes.length, 4, 'nothing after done')
})

test('off a TTY a plain line is printed every few seconds, and the final state once', () => {
  const out = sink(false)
  const bar = createProgressBar(out, { everySeconds: 2 })
  for (let t = 0.25; t <= 10; t += 0.25) bar.update(snap({ elapsed: t }))
  bar.update(snap({ elapsed: 10.1, final: true }))
  bar.done()
  // at 2, 4, 6, 8 and 10 s, then the final line
  assert.equal(out.writes.length, 6)
  assert.ok(out.writes.every((w) => w.endsWith('\n') && !w.includes('\r') && !w.includes('[')))
  assert.match(out.writes.at(-1)!, /^done /)
})

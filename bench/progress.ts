import type { ProgressSnapshot } from './recorder.js'
import { formatDuration } from './summary.js'

/** Where progress and text go: `process.stderr` fits, so does a test's collecting object. */
export interface TextSink {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

/** A live progress display fed with `runLoad`'s snapshots. */
export interface ProgressBar {
  update(snapshot: ProgressSnapshot): void
  /** draws the final state and ends the line */
  done(snapshot?: ProgressSnapshot): void
}

const secs = (s: number) => `${s < 10 ? s.toFixed(1) : Math.round(s)}s`

/**
 * One progress line: phase, bar (when `barWidth` > 0), elapsed/total, current req/s, p95 so
 * far, errors and, in an open loop that could not keep up, dropped arrivals.
 *
 * @example
 *   formatProgress(snapshot, 20)
 *   // 'running [========>           ]  4.2s/10s  8123 req/s  p95 3.81ms  errors 0 (0.00%)'
 */
export function formatProgress(s: ProgressSnapshot, barWidth: number): string {
  const frac = Math.min(1, s.duration > 0 ? s.elapsed / s.duration : 1)
  const phase = s.final ? 'done    ' : frac < 1 ? 'running ' : 'stopping'
  const parts = [phase]
  if (barWidth > 0) {
    const full = Math.floor(frac * barWidth)
    const head = full < barWidth ? '>' : ''
    parts.push(`[${'='.repeat(full)}${head}${' '.repeat(Math.max(0, barWidth - full - head.length))}]`)
  }
  const finished = s.completed + s.errors
  const errorRate = finished === 0 ? 0 : s.failed / finished
  parts.push(
    `${secs(s.elapsed)}/${secs(s.duration)}`,
    `${Math.round(s.rate)} req/s`,
    `p95 ${formatDuration(s.p95)}`,
    `errors ${s.failed} (${(errorRate * 100).toFixed(2)}%)`,
  )
  if (s.dropped > 0) parts.push(`dropped ${s.dropped}`)
  return parts.join('  ')
}

/**
 * On a terminal the line is redrawn in place (`\r` and erase-to-end); anywhere else (CI logs,
 * a file) a redraw would become thousands of lines, so a plain line is printed every
 * `everySeconds` instead.
 *
 * @example
 *   const bar = createProgressBar(process.stderr)
 *   const result = await runLoad({ ...opts, onProgress: (s) => bar.update(s) })
 *   bar.done()
 */
export function createProgressBar(stream: TextSink, opts: { everySeconds?: number } = {}): ProgressBar {
  const every = opts.everySeconds ?? 5
  let last: ProgressSnapshot | null = null
  let nextPrint = every
  let ended = false
  const width = () => Math.max(10, Math.min(40, (stream.columns ?? 80) - 70))
  return {
    update(s) {
      if (ended) return
      last = s
      if (stream.isTTY) stream.write(`\r${formatProgress(s, width())}\x1b[K`)
      else if (!s.final && s.elapsed >= nextPrint) {
        // the final state is left to done(), so it is printed once
        stream.write(`${formatProgress(s, 0)}\n`)
        while (nextPrint <= s.elapsed) nextPrint += every
      }
    },
    done(s) {
      if (ended) return
      ended = true
      const final = s ?? last
      if (stream.isTTY) stream.write(final ? `\r${formatProgress(final, width())}\x1b[K\n` : '')
      else if (final) stream.write(`${formatProgress(final, 0)}\n`)
    },
  }
}

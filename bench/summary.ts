import type { LatencyStats } from './histogram.js'
import type { LoadResult } from './recorder.js'
import type { ThresholdResult, ThresholdUnit } from './thresholds.js'

/**
 * Formats milliseconds the way k6 does; `-` for NaN (nothing measured).
 *
 * @example
 *   formatDuration(0.5123) // '512.30µs'
 *   formatDuration(1200)   // '1.20s'
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  if (ms < 1) return `${(ms * 1000).toFixed(2)}µs`
  if (ms < 1000) return `${ms.toFixed(2)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}

/**
 * A planned span of seconds as a person writes it.
 *
 * @example
 *   formatSpan(90)  // '1m30s'
 *   formatSpan(0.5) // '500ms'
 */
export function formatSpan(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`
  if (seconds < 60 || !Number.isInteger(seconds)) return `${Number(seconds.toFixed(3))}s`
  const m = Math.floor(seconds / 60)
  const rest = seconds % 60
  return rest === 0 ? `${m}m` : `${m}m${rest}s`
}

/**
 * Bytes in SI units as k6 prints them.
 *
 * @example
 *   formatBytes(39_800) // '39.8 kB'
 */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let u = 0
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000
    u++
  }
  return u === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[u]}`
}

const pct = (ratio: number) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(2)}%` : '-')
const perSec = (n: number) => `${n >= 100 ? n.toFixed(0) : n.toFixed(2)}/s`

/**
 * A threshold value in its own unit.
 *
 * @example
 *   formatThresholdValue(0.0123, 'ratio') // '1.23%'
 */
export function formatThresholdValue(value: number, unit: ThresholdUnit): string {
  if (unit === 'ms') return formatDuration(value)
  if (unit === 'ratio') return pct(value)
  if (unit === 'req/s') return perSec(value)
  return String(value)
}

const durationLine = (s: LatencyStats) =>
  [
    `avg=${formatDuration(s.mean)}`,
    `min=${formatDuration(s.min)}`,
    `med=${formatDuration(s.p50)}`,
    `max=${formatDuration(s.max)}`,
    `p(90)=${formatDuration(s.p90)}`,
    `p(95)=${formatDuration(s.p95)}`,
    `p(99)=${formatDuration(s.p99)}`,
  ].join(' ')

const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')

/**
 * The end-of-run text in k6's layout: scenario, checks, then one aligned line per metric,
 * and the thresholds with ✓/✗ when some were given.
 *
 * @example
 *   process.stdout.write(formatSummary(result, evaluateThresholds(['p95<200'], result)))
 */
export function formatSummary(r: LoadResult, thresholds: readonly ThresholdResult[] = []): string {
  const out: string[] = []
  const secs = formatSpan(r.duration)
  const scenario =
    r.mode === 'closed'
      ? `closed loop, ${r.vus} VUs for ${secs}`
      : `open loop, ${r.targetRate} req/s for ${secs} (max ${r.vus} VUs)`
  out.push(`  scenario: ${scenario}${r.aborted ? ' — stopped early' : ''}`, `  target:   ${r.target}`, '')
  for (const c of r.checks) {
    const all = c.passes + c.fails
    out.push(
      `  ${c.fails === 0 ? '✓' : '✗'} ${c.name}${c.fails === 0 ? '' : `  ${pct(c.passes / all)} — ✓ ${c.passes} / ✗ ${c.fails}`}`,
    )
  }
  if (r.checks.length > 0) out.push('')

  const rows: [string, string, string?][] = []
  const finished = r.completed + r.errors
  const el = r.elapsed > 0 ? r.elapsed : 1
  if (r.checks.length > 0) {
    const pass = r.checks.reduce((n, c) => n + c.passes, 0)
    const all = r.checks.reduce((n, c) => n + c.passes + c.fails, 0)
    rows.push(['checks', pct(all === 0 ? Number.NaN : pass / all), `${pass} out of ${all}`])
  }
  rows.push(['data_received', formatBytes(r.bytesReceived), `${formatBytes(r.bytesReceived / el)}/s`])
  rows.push(['data_sent', formatBytes(r.bytesSent), `${formatBytes(r.bytesSent / el)}/s`])
  if (r.mode === 'open') rows.push(['dropped_iterations', String(r.dropped), perSec(r.dropped / el)])
  rows.push(['http_req_duration', durationLine(r.latency)])
  rows.push(['http_req_failed', pct(r.failureRate), `${r.failed} out of ${finished}`])
  if (r.mode === 'open') rows.push(['http_req_service_time', durationLine(r.serviceTime)])
  rows.push(['http_reqs', String(r.requests), perSec(r.rate)])
  if (r.interrupted > 0) rows.push(['interrupted', String(r.interrupted)])
  if (r.errors > 0) rows.push(['network_errors', String(r.errors), counts(r.errorCounts)])
  rows.push(['status_codes', counts(r.statusCounts) || '-'])
  rows.push(['vus_max', String(r.vus), `peak in flight ${r.peakInFlight}`])
  const first = Math.max(...rows.filter((x) => x[2] !== undefined).map((x) => x[1].length))
  for (const [name, value, extra] of rows) {
    const head = `  ${name.padEnd(26, '.')}: `
    out.push(extra === undefined ? `${head}${value}` : `${head}${value.padEnd(first)}  ${extra}`)
  }

  if (thresholds.length > 0) {
    out.push('', '  thresholds')
    const width = Math.max(...thresholds.map((t) => t.threshold.length)) + 2
    for (const t of thresholds) {
      const value = formatThresholdValue(t.value, t.unit)
      out.push(`    ${t.ok ? '✓' : '✗'} ${`${t.threshold} `.padEnd(width, '.')} ${t.stat}=${value}`)
    }
  }
  return `${out.join('\n')}\n`
}

/** The JSON report: the result without its raw histograms, plus the threshold verdicts. */
export type BenchReport = Omit<LoadResult, 'histograms'> & {
  version: 1
  thresholds: ThresholdResult[]
}

const round = (n: number, digits = 3) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n)
const roundStats = (s: LatencyStats): LatencyStats =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)])) as unknown as LatencyStats

/**
 * The result as a plain object for `JSON.stringify` (and for comparing runs later): figures
 * rounded to the microsecond; a figure that could not be measured (NaN) becomes `null`.
 *
 * @example
 *   await writeFile('result.json', JSON.stringify(toJSON(result, verdicts), null, 2))
 */
export function toJSON(r: LoadResult, thresholds: readonly ThresholdResult[] = []): BenchReport {
  const { histograms: _raw, ...rest } = r
  return {
    version: 1,
    ...rest,
    elapsed: round(r.elapsed),
    failureRate: round(r.failureRate, 6),
    rate: round(r.rate),
    latency: roundStats(r.latency),
    serviceTime: roundStats(r.serviceTime),
    timeline: r.timeline.map((p) => ({ ...p, p95: p.p95 === null ? null : round(p.p95) })),
    thresholds: thresholds.map((t) => ({ ...t, value: round(t.value, 6) })),
  }
}

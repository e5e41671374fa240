import type { LoadResult } from './recorder.js'

/** Comparison operators, as k6 writes them. */
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!='

/** How a threshold's value reads: ms of latency, a 0–1 ratio, requests per second, or a count. */
export type ThresholdUnit = 'ms' | 'ratio' | 'req/s' | 'count'

/** A parsed threshold, ready to evaluate against any result. */
export interface Threshold {
  /** the expression as written */
  source: string
  /** what is measured, canonical: `p(95)`, `avg`, `failed`, `service p(99)`, … */
  stat: string
  op: ThresholdOp
  /** the limit in `unit` (latencies converted to ms, percentages to ratios) */
  limit: number
  unit: ThresholdUnit
  measure: (r: LoadResult) => number
}

/** One threshold's verdict; a value that cannot be measured (no responses, no checks) fails. */
export interface ThresholdResult {
  threshold: string
  stat: string
  value: number
  unit: ThresholdUnit
  ok: boolean
}

/**
 * A threshold expression that cannot be understood; the message says what is expected.
 *
 * @example
 *   try { parseThreshold('p95<<1') } catch (e) { if (e instanceof ThresholdError) console.error(e.message) }
 */
export class ThresholdError extends Error {
  constructor(expr: string, why: string) {
    super(`invalid threshold ${JSON.stringify(expr)}: ${why}`)
    this.name = 'ThresholdError'
  }
}

const SYNTAX =
  /^\s*(?:([a-z_]+)\s*:\s*)?([a-z]+)\s*(?:\(\s*([\d.]+)\s*\)|([\d.]+))?\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*(ms|s|us|µs|%)?\s*$/i
const EXAMPLES = 'expected e.g. p95<200, p(99)<=500ms, avg<100, max<1s, failed<0.001, rate>100, checks>0.99'

/** Latency metrics by name; the empty name is k6's http_req_duration. */
const LATENCY: Record<string, 'latency' | 'serviceTime'> = {
  '': 'latency',
  http_req_duration: 'latency',
  http_req_service_time: 'serviceTime',
  service: 'serviceTime',
}
const LATENCY_STATS: Record<string, number> = { min: 0, med: 50, max: 100 }
/** Unit suffixes each kind of figure accepts, and what they multiply the limit by. */
const SUFFIXES: Record<ThresholdUnit, Record<string, number>> = {
  ms: { ms: 1, s: 1000, us: 1e-3, µs: 1e-3 },
  ratio: { '%': 0.01 },
  'req/s': {},
  count: {},
}

const checkRate = (r: LoadResult) => {
  const pass = r.checks.reduce((n, c) => n + c.passes, 0)
  const all = r.checks.reduce((n, c) => n + c.passes + c.fails, 0)
  return all === 0 ? Number.NaN : pass / all
}

/** Non-latency figures, by `stat` or `metric:stat` (k6's own spelling). */
const SCALARS: Record<string, { stat: string; unit: ThresholdUnit; measure: (r: LoadResult) => number }> = {}
for (const [names, stat, unit, measure] of [
  [['failed', 'http_req_failed:rate'], 'failed', 'ratio', (r) => r.failureRate],
  [['rate', 'http_reqs:rate'], 'rate', 'req/s', (r) => r.rate],
  [['requests', 'http_reqs:count'], 'requests', 'count', (r) => r.requests],
  [['checks', 'checks:rate'], 'checks', 'ratio', checkRate],
  [['dropped', 'dropped_iterations:count'], 'dropped', 'count', (r) => r.dropped],
] as const satisfies [string[], string, ThresholdUnit, (r: LoadResult) => number][]) {
  for (const name of names) SCALARS[name] = { stat, unit, measure }
}

function latencyStat(expr: string, metric: string, name: string, arg: string | undefined) {
  const which = LATENCY[metric]
  if (which === undefined) return null
  let p: number | undefined
  if (name === 'avg' && arg === undefined) p = -1
  else if (name in LATENCY_STATS && arg === undefined) p = LATENCY_STATS[name]
  else if (name === 'p' && arg !== undefined) p = Number(arg)
  else return null
  if (!(p === -1 || (p >= 0 && p <= 100))) throw new ThresholdError(expr, `percentile ${arg} is not in 0–100`)
  const pct = p
  const stat = `${which === 'serviceTime' ? 'service ' : ''}${pct === -1 ? 'avg' : name === 'p' ? `p(${arg})` : name}`
  const measure = (r: LoadResult) => {
    const h = r.histograms[which]
    return (pct === -1 ? h.mean() : h.percentile(pct)) / 1000
  }
  return { stat, unit: 'ms' as const, measure }
}

/**
 * Parses one k6-style threshold. Latency limits are in ms unless suffixed (`s`, `us`); ratios
 * (`failed`, `checks`) accept `%`. k6's qualified forms (`http_req_duration:p(95)<200`,
 * `http_req_failed:rate<0.01`, `http_reqs:rate>100`, `checks:rate>0.99`) are accepted too.
 *
 * @example
 *   parseThreshold('p(99)<=0.5s')   // { stat: 'p(99)', op: '<=', limit: 500, unit: 'ms', … }
 *   parseThreshold('failed<0.1%')   // { stat: 'failed', op: '<', limit: 0.001, unit: 'ratio', … }
 *   parseThreshold('p95<<200')      // throws ThresholdError
 */
export function parseThreshold(expr: string): Threshold {
  const m = SYNTAX.exec(expr)
  if (!m) throw new ThresholdError(expr, EXAMPLES)
  const metric = (m[1] ?? '').toLowerCase()
  const name = m[2]!.toLowerCase()
  const arg = m[3] ?? m[4]
  const op = m[5] as ThresholdOp
  const suffix = m[7]
  let limit = Number(m[6])
  const qualified = metric ? `${metric}:${name}` : name
  const found = latencyStat(expr, metric, name, arg) ?? (arg === undefined ? SCALARS[qualified] : undefined)
  if (!found) throw new ThresholdError(expr, `unknown measure "${qualified}${arg ?? ''}"; ${EXAMPLES}`)
  if (suffix) {
    const factor = SUFFIXES[found.unit][suffix.toLowerCase()]
    if (factor === undefined) {
      throw new ThresholdError(expr, `unit "${suffix}" does not apply to ${found.stat}`)
    }
    limit *= factor
  }
  return { source: expr.trim(), stat: found.stat, op, limit, unit: found.unit, measure: found.measure }
}

/**
 * Parses every expression, failing on the first malformed one: parse before the run, so a typo
 * does not cost a whole load test.
 *
 * @example
 *   const thresholds = parseThresholds(['p95<200', 'failed<0.001'])
 */
export function parseThresholds(exprs: readonly string[]): Threshold[] {
  return exprs.map(parseThreshold)
}

const COMPARE: Record<ThresholdOp, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
}

/**
 * Judges a result. NaN (nothing to measure) fails every comparison, `!=` included.
 *
 * @example
 *   const verdicts = evaluateThresholds(['p95<200', 'failed<0.01'], result)
 *   const failing = verdicts.filter((v) => !v.ok)
 */
export function evaluateThresholds(
  thresholds: readonly (Threshold | string)[],
  result: LoadResult,
): ThresholdResult[] {
  return thresholds.map((t) => {
    const th = typeof t === 'string' ? parseThreshold(t) : t
    const value = th.measure(result)
    const ok = !Number.isNaN(value) && COMPARE[th.op](value, th.limit)
    return { threshold: th.source, stat: th.stat, value, unit: th.unit, ok }
  })
}

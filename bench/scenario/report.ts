import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { VERSION } from '../../src/main.js'
import { formatSpan, toJSON } from '../summary.js'
import { renderChart } from './chart.js'
import type { RunOutcome, ScenarioOutcome } from './run.js'

/** The figures every report format shows for a run. */
export interface RunRow {
  run: string
  description: string
  requests: number
  rate: number
  avg: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
  errorRate: number
  cacheHitRatio: number | null
  originHits: number | null
  /** 200s and 429s per second of load (the rate-limit scenario's accepted and rejected) */
  acceptedPerSec: number
  rejectedPerSec: number
  redisCommandsPerRequest: number | null
  redisKeyspaceHits: number | null
  redisKeyspaceMisses: number | null
}

export function rowOf(r: RunOutcome): RunRow {
  const l = r.result.latency
  const per = (status: string) => (r.result.statusCounts[status] ?? 0) / Math.max(1e-9, r.result.duration)
  return {
    run: r.name,
    description: r.description,
    requests: r.result.requests,
    rate: r.result.rate,
    avg: l.mean,
    p50: l.p50,
    p90: l.p90,
    p95: l.p95,
    p99: l.p99,
    max: l.max,
    errorRate: r.result.failureRate,
    cacheHitRatio: r.cacheHitRatio,
    originHits: r.originHits,
    acceptedPerSec: per('200'),
    rejectedPerSec: per('429'),
    redisCommandsPerRequest: r.redis?.commandsPerRequest ?? null,
    redisKeyspaceHits: r.redis?.keyspaceHits ?? null,
    redisKeyspaceMisses: r.redis?.keyspaceMisses ?? null,
  }
}

/** Improvement of the second run over the first, in % (positive = better); points for ratios. */
export interface Improvement {
  rate: number
  avg: number
  p50: number
  p90: number
  p95: number
  p99: number
  errorRatePoints: number
  cacheHitPoints: number | null
}

export function improvement(base: RunRow, next: RunRow): Improvement {
  const lower = (a: number, b: number) => ((a - b) / a) * 100
  return {
    rate: ((next.rate - base.rate) / base.rate) * 100,
    avg: lower(base.avg, next.avg),
    p50: lower(base.p50, next.p50),
    p90: lower(base.p90, next.p90),
    p95: lower(base.p95, next.p95),
    p99: lower(base.p99, next.p99),
    errorRatePoints: (base.errorRate - next.errorRate) * 100,
    cacheHitPoints:
      base.cacheHitRatio === null || next.cacheHitRatio === null
        ? null
        : (next.cacheHitRatio - base.cacheHitRatio) * 100,
  }
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–')
const pct = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(2)} %`)
const signed = (v: number | null, unit = ' %') =>
  v === null || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}${unit}`

/** Why a scenario stopped early, in words a user can act on. */
export function unavailableMessage(o: ScenarioOutcome): string | null {
  const u = o.unavailable
  if (u === null) return null
  const names = u.plugins.map((p) => `'${p}'`).join(', ')
  return (
    `the '${u.run}' run needs the ${names} plugin${u.plugins.length > 1 ? 's' : ''}, which this build of ` +
    `Portico does not have (not in src/plugins/index.ts): it was not run, and no figures were made up for it`
  )
}

function load(o: ScenarioOutcome): string {
  const first = o.runs[0]?.result
  if (first?.mode === 'open')
    return `open loop, ${first.targetRate} req/s (max ${first.vus} VUs) for ${formatSpan(o.options.duration)} per run`
  return `closed loop, ${o.options.vus} VUs for ${formatSpan(o.options.duration)} per run`
}

function target(o: ScenarioOutcome): string {
  return o.gateway === null
    ? 'an in-process gateway per run'
    : `the running gateway at ${o.gateway.url} (configured through ${o.gateway.adminUrls[0]}${o.gateway.adminUrls.length > 1 ? `, cache counted on ${o.gateway.adminUrls.length} nodes` : ''})`
}

export function markdown(o: ScenarioOutcome, chartFile: string | null): string {
  const rows = o.runs.map(rowOf)
  const s = o.scenario
  const out = [
    `# ${s.title}`,
    '',
    `Scenario \`${s.name}\` · Portico ${VERSION} · ${load(o)} · ${target(o)} · generated ${o.startedAt.toISOString()}`,
    '',
    s.description,
    '',
  ]
  const missing = unavailableMessage(o)
  if (missing !== null) out.push(`> **Not complete:** ${missing}.`, '')
  if (rows.length > 0) {
    out.push(
      '| run | requests | throughput (req/s) | avg (ms) | p50 (ms) | p90 (ms) | p95 (ms) | p99 (ms) | max (ms) | error rate | cache hit ratio | origin hits |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    )
    for (const r of rows) {
      out.push(
        `| ${r.run} | ${r.requests} | ${r.rate.toFixed(1)} | ${ms(r.avg)} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${pct(r.errorRate)} | ${pct(r.cacheHitRatio)} | ${r.originHits ?? '–'} |`,
      )
    }
    if (s.compare && rows.length >= 2) {
      const d = improvement(rows[0]!, rows[1]!)
      out.push(
        `| **improvement** | | **${signed(d.rate)}** | **${signed(d.avg)}** | ${signed(d.p50)} | ${signed(d.p90)} | **${signed(d.p95)}** | ${signed(d.p99)} | | ${signed(d.errorRatePoints, ' pts')} | ${signed(d.cacheHitPoints, ' pts')} | |`,
      )
      out.push(
        '',
        `Improvement of **${rows[1]!.run}** over **${rows[0]!.run}**: latency lower and throughput higher are positive.`,
      )
    }
    out.push('', 'Runs:', '')
    for (const r of o.runs) {
      const codes =
        Object.entries(r.result.statusCounts)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none'
      const errs = Object.entries(r.result.errorCounts)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')
      const cache = Object.entries(r.cache)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
      out.push(
        `- **${r.name}**: ${r.description}. Status codes ${codes}${errs ? `; network errors ${errs}` : ''}${cache ? `; cache ${cache}` : ''}.`,
      )
    }
  }
  if (s.name === 'rate-limit' && rows.length > 0) {
    const r = rows[0]!
    out.push(
      '',
      '| limit (req/s) | offered (req/s) | accepted (req/s) | rejected 429 (req/s) | accepted / limit |',
      '|---:|---:|---:|---:|---:|',
      `| ${o.options.limit} | ${o.runs[0]!.result.targetRate} | ${r.acceptedPerSec.toFixed(1)} | ${r.rejectedPerSec.toFixed(1)} | ${(r.acceptedPerSec / o.options.limit).toFixed(2)} |`,
    )
  }
  const outages = o.runs.filter((r) => r.outageOriginCalls !== null)
  if (outages.length > 0) {
    out.push(
      '',
      '## Outage',
      '',
      '| run | error rate | p95 (ms) | calls the failing instance received during the outage |',
      '|---|---:|---:|---:|',
    )
    for (const r of outages)
      out.push(
        `| ${r.name} | ${pct(r.result.failureRate)} | ${ms(r.result.latency.p95)} | ${r.outageOriginCalls} |`,
      )
  }
  const redis = o.runs.filter((r) => r.redis !== null)
  if (redis.length > 0) {
    out.push(
      '',
      '## Redis',
      '',
      '| run | keyspace hits | keyspace misses | commands | commands / request | busiest commands |',
      '|---|---:|---:|---:|---:|---|',
    )
    for (const r of redis) {
      const d = r.redis!
      const top =
        d.byCommand
          .slice(0, 4)
          .map((c) => `${c.command} ${c.calls}`)
          .join(', ') || '–'
      out.push(
        `| ${r.name} | ${d.keyspaceHits} | ${d.keyspaceMisses} | ${d.commands} | ${d.commandsPerRequest.toFixed(2)} | ${top} |`,
      )
    }
  }
  const verdicts = o.runs.flatMap((r) => r.verdicts.map((v) => ({ run: r.name, ...v })))
  if (verdicts.length > 0) {
    out.push('', '## Thresholds', '')
    for (const v of verdicts)
      out.push(
        `- ${v.ok ? '✓' : '✗'} ${v.run}: \`${v.threshold}\` (${v.stat} = ${Number(v.value.toFixed(3))})`,
      )
  }
  if (chartFile !== null) out.push('', `![latency and throughput per run](${chartFile})`)
  out.push(
    '',
    'Cache hit ratio: responses the gateway served from its cache (its own `Hit` count) over all responses. Origin hits: requests the slow demo service received during the run (`GET /slow/stats`). Latency is measured by the load generator from sending to the last body byte.',
    '',
  )
  return out.join('\n')
}

const CSV_COLUMNS: Array<keyof RunRow> = [
  'run',
  'description',
  'requests',
  'rate',
  'avg',
  'p50',
  'p90',
  'p95',
  'p99',
  'max',
  'errorRate',
  'cacheHitRatio',
  'originHits',
  'acceptedPerSec',
  'rejectedPerSec',
  'redisCommandsPerRequest',
  'redisKeyspaceHits',
  'redisKeyspaceMisses',
]
const CSV_HEADER =
  'scenario,run,description,requests,rate_rps,avg_ms,p50_ms,p90_ms,p95_ms,p99_ms,max_ms,error_rate,cache_hit_ratio,origin_hits,status_200_rps,status_429_rps,redis_commands_per_request,redis_keyspace_hits,redis_keyspace_misses'

function csvCell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return ''
  const s = typeof v === 'number' ? String(Number(v.toFixed(4))) : String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function csv(o: ScenarioOutcome): string {
  const lines = [CSV_HEADER]
  for (const r of o.runs.map(rowOf))
    lines.push([o.scenario.name, ...CSV_COLUMNS.map((c) => r[c])].map(csvCell).join(','))
  return `${lines.join('\n')}\n`
}

export function json(o: ScenarioOutcome): object {
  const rows = o.runs.map(rowOf)
  return {
    version: 1,
    scenario: { name: o.scenario.name, title: o.scenario.title, description: o.scenario.description },
    portico: VERSION,
    generatedAt: o.startedAt.toISOString(),
    options: { ...o.options, redisUrl: o.options.redisUrl?.replace(/\/\/[^@]*@/, '//***@') ?? null },
    gateway: o.gateway,
    runs: o.runs.map((r, i) => ({
      name: r.name,
      description: r.description,
      figures: rows[i],
      cacheHitRatio: r.cacheHitRatio,
      cache: r.cache,
      originHits: r.originHits,
      outageOriginCalls: r.outageOriginCalls,
      redis: r.redis,
      result: toJSON(r.result, r.verdicts),
    })),
    improvement: o.scenario.compare && rows.length >= 2 ? improvement(rows[0]!, rows[1]!) : null,
    unavailable: o.unavailable === null ? null : { ...o.unavailable, message: unavailableMessage(o) },
  }
}

/**
 * Writes `<dir>/<scenario>.md`, `.json`, `.csv` and `.svg` (the chart only when a run finished).
 *
 * @example
 *   const files = await writeReports(outcome, 'reports')   // ['reports/cache.md', …]
 */
export async function writeReports(o: ScenarioOutcome, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const base = join(dir, o.scenario.name)
  const files: string[] = []
  const svg = o.runs.length > 0 ? `${o.scenario.name}.svg` : null
  if (svg !== null) {
    const subtitle = `${load(o)} · Portico ${VERSION} · ${o.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`
    const chart = renderChart(
      o.scenario.title,
      subtitle,
      o.runs.map((r) => ({
        name: r.name,
        rate: r.result.rate,
        latency: {
          avg: r.result.latency.mean,
          p50: r.result.latency.p50,
          p90: r.result.latency.p90,
          p95: r.result.latency.p95,
          p99: r.result.latency.p99,
        },
      })),
      o.unavailable === null
        ? undefined
        : `'${o.unavailable.run}' not run: ${o.unavailable.plugins.join(', ')} missing`,
    )
    await writeFile(`${base}.svg`, chart)
    files.push(`${base}.svg`)
  }
  await writeFile(`${base}.md`, markdown(o, svg))
  await writeFile(`${base}.json`, `${JSON.stringify(json(o), null, 2)}\n`)
  await writeFile(`${base}.csv`, csv(o))
  files.push(`${base}.md`, `${base}.json`, `${base}.csv`)
  return files.map((f) => resolve(f))
}

import { parseArgs } from 'node:util'
import type { PluginRegistry } from '../../src/core/plugin.js'
import { createRegistry } from '../../src/plugins/index.js'
import { parseDuration, UsageError } from '../cli-args.js'
import { createProgressBar, type TextSink } from '../progress.js'
import { formatSummary, formatThresholdValue } from '../summary.js'
import { parseThresholds, ThresholdError } from '../thresholds.js'
import { ExternalGatewayError } from './external.js'
import { markdown, unavailableMessage, writeReports } from './report.js'
import { runScenario } from './run.js'
import { SCENARIOS, type ScenarioOptions } from './scenarios.js'

/** Exit codes of `portico bench scenario`. */
export const SCENARIO_EXIT = { OK: 0, THRESHOLD_FAILED: 1, USAGE: 2, UNAVAILABLE: 3 } as const

export const SCENARIO_USAGE = `usage: portico bench scenario NAME [options]

Starts the demo services and an in-process gateway per run, drives the same load through
each run's configuration, and writes reports/NAME.md, .json, .csv and .svg.
With --gateway and --admin-url it drives a running gateway instead (a compose stack's): each
run's configuration replaces the gateway's through its Admin API (POST /config), the runs use
the demo services that gateway's configuration points at (found by their X-Instance header),
and the gateway's own configuration is put back at the end.

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(23)} ${s.title}`).join('\n')}

  --vus N              virtual users per run (default 50; rate-limit: most requests in flight)
  -d, --duration T     load per run: 10s, 30s, 1m (default 10s)
  --limit N            rate-limit: the configured limit per second (default 50)
  --rate N             rate-limit: offered requests per second (default twice the limit)
  --redis-url URL      Redis for the plugins, and Redis figures in the report
                       (default PORTICO_REDIS_URL or REDIS_URL; none: memory strategies)
  --gateway URL        drive this running gateway (its proxy, e.g. http://gateway:8000)
  --admin-url URL      its Admin API (e.g. http://gateway:8001; or PORTICO_ADMIN_URL); repeat it
                       for every node behind a load balancer: runs are configured through the
                       first, cache outcomes summed over all
  --admin-token TOKEN  its admin token (or PORTICO_ADMIN_TOKEN)
  --threshold EXPR     every run must hold it (p95<200, failed<0.01, rate>100, …), else exit 1
  --out-dir DIR        where the reports go (default reports)
  --slow-ms N          latency of the demo's GET /slow (default 120)
  --inference-ms N     latency of the demo's inference services (default 50)
  -q, --quiet          no progress line
Exit codes: 0 done, 1 a threshold failed, 2 usage error, 3 a run needs a plugin this build lacks
(or the --gateway given cannot be driven: Admin API unreachable, no demo services behind it).
Reference: k6 with 100 VUs for 30 s is --vus 100 -d 30s.
`

export interface ScenarioIO {
  stdout: TextSink
  stderr: TextSink
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
  /** the plugins available (default: this build's registry) */
  registry?: PluginRegistry
}

function positive(v: string | undefined, flag: string, fallback: number, int = true): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!(n > 0) || !Number.isFinite(n) || (int && !Number.isInteger(n)))
    throw new UsageError(`${flag} must be a positive ${int ? 'integer' : 'number'}, got ${v}`)
  return n
}

function parse(argv: string[], env: NodeJS.ProcessEnv) {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values: v, positionals } = parsed
  if (v.help) return 'help' as const
  if (positionals.length !== 1)
    throw new UsageError(positionals.length ? 'one scenario at a time' : 'missing scenario name')
  const scenario = SCENARIOS.find((s) => s.name === positionals[0])
  if (scenario === undefined) {
    throw new UsageError(`unknown scenario '${positionals[0]}': ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  const limit = positive(v.limit, '--limit', 50)
  const options: ScenarioOptions = {
    vus: positive(v.vus, '--vus', 50),
    duration: parseDuration(v.duration ?? '10s'),
    limit,
    rate: v.rate === undefined ? undefined : positive(v.rate, '--rate', limit * 2, false),
    redisUrl: v['redis-url'] ?? (env.PORTICO_REDIS_URL || env.REDIS_URL || undefined),
  }
  if (!(options.duration > 0)) throw new UsageError('--duration must be more than zero')
  const adminUrls = v['admin-url'] ?? (env.PORTICO_ADMIN_URL ? [env.PORTICO_ADMIN_URL] : [])
  if (v.gateway !== undefined && adminUrls.length === 0)
    throw new UsageError('--gateway needs --admin-url (its Admin API, where each run is configured)')
  if (v.gateway === undefined && v['admin-url'] !== undefined)
    throw new UsageError('--admin-url goes with --gateway (the running gateway to drive)')
  for (const [flag, url] of [
    ['--gateway', v.gateway] as const,
    ...adminUrls.map((u) => ['--admin-url', u] as const),
  ]) {
    if (url !== undefined && !/^https?:\/\/[^/]/.test(url))
      throw new UsageError(`${flag}: expected an http(s) URL, got ${url}`)
  }
  return {
    gateway:
      v.gateway === undefined
        ? undefined
        : { url: v.gateway, adminUrls, adminToken: v['admin-token'] ?? env.PORTICO_ADMIN_TOKEN },
    scenario,
    options,
    thresholds: parseThresholds(v.threshold ?? []),
    outDir: v['out-dir'] ?? 'reports',
    latency: {
      slowMs: positive(v['slow-ms'], '--slow-ms', 120),
      inferenceMs: positive(v['inference-ms'], '--inference-ms', 50),
    },
    quiet: v.quiet ?? false,
  }
}

const OPTIONS = {
  vus: { type: 'string' },
  duration: { type: 'string', short: 'd' },
  limit: { type: 'string' },
  rate: { type: 'string' },
  'redis-url': { type: 'string' },
  gateway: { type: 'string' },
  'admin-url': { type: 'string', multiple: true },
  'admin-token': { type: 'string' },
  threshold: { type: 'string', multiple: true },
  'out-dir': { type: 'string' },
  'slow-ms': { type: 'string' },
  'inference-ms': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * `portico bench scenario NAME`: runs the scenario, prints each run's k6-style summary and the
 * comparison, writes the reports, and returns the exit code (see {@link SCENARIO_EXIT}).
 *
 * @example
 *   process.exitCode = await runScenarioCli(['baseline-vs-optimized', '--vus', '100', '-d', '30s'], {
 *     stdout: process.stdout, stderr: process.stderr,
 *   })
 */
export async function runScenarioCli(argv: string[], io: ScenarioIO): Promise<number> {
  let args: Exclude<ReturnType<typeof parse>, 'help'>
  try {
    const p = parse(argv, io.env ?? process.env)
    if (p === 'help') {
      io.stdout.write(SCENARIO_USAGE)
      return SCENARIO_EXIT.OK
    }
    args = p
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ThresholdError)) throw err
    io.stderr.write(`portico bench scenario: ${err.message}\n\n${SCENARIO_USAGE}`)
    return SCENARIO_EXIT.USAGE
  }
  const registry = io.registry ?? createRegistry()
  let outcome: Awaited<ReturnType<typeof runScenario>>
  try {
    outcome = await runScenario(args.scenario, args.options, {
      registry,
      ...(args.gateway && { gateway: args.gateway }),
      thresholds: args.thresholds,
      latency: args.latency,
      ...(io.signal && { signal: io.signal }),
      onRunStart: (spec, i, total) => {
        io.stderr.write(`\nrun ${i + 1}/${total}: ${spec.name} — ${spec.description}\n`)
        if (args.quiet) return undefined
        const bar = createProgressBar(io.stderr)
        return (s) => {
          bar.update(s)
          if (s.final) bar.done()
        }
      },
      onRunEnd: (run) => io.stdout.write(`\n── ${run.name}\n${formatSummary(run.result, run.verdicts)}`),
    })
  } catch (err) {
    if (!(err instanceof ExternalGatewayError)) throw err
    io.stderr.write(`portico bench scenario ${args.scenario.name}: ${err.message}\n`)
    return SCENARIO_EXIT.UNAVAILABLE
  }
  const files = await writeReports(outcome, args.outDir)
  if (outcome.runs.length > 0) io.stdout.write(`\n${markdown(outcome, null)}`)
  io.stderr.write(`\nreports written:\n${files.map((f) => `  ${f}`).join('\n')}\n`)
  const missing = unavailableMessage(outcome)
  if (missing !== null) {
    io.stderr.write(`\nportico bench scenario ${args.scenario.name}: incomplete: ${missing}.\n`)
    return SCENARIO_EXIT.UNAVAILABLE
  }
  const failing = outcome.runs.flatMap((r) =>
    r.verdicts
      .filter((v) => !v.ok)
      .map((v) => `${r.name}: ${v.threshold} (${v.stat}=${formatThresholdValue(v.value, v.unit)})`),
  )
  if (failing.length === 0) return SCENARIO_EXIT.OK
  io.stderr.write(`thresholds failed: ${failing.join(', ')}\n`)
  return SCENARIO_EXIT.THRESHOLD_FAILED
}

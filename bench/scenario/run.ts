import type { LatencyOptions } from '../../demo/services/index.js'
import type { PluginRegistry } from '../../src/core/plugin.js'
import { type LoadResult, type ProgressSnapshot, runLoad } from '../load.js'
import { evaluateThresholds, type Threshold, type ThresholdResult } from '../thresholds.js'
import type { ExternalGateway } from './external.js'
import { type RedisDelta, RedisProbe } from './redis.js'
import type { Outage, RunSpec, Scenario, ScenarioOptions } from './scenarios.js'
import type { DemoUrls } from './stack.js'
import { openTarget } from './target.js'

/** What one run measured, with the figures the reports add to the load result. */
export interface RunOutcome {
  name: string
  description: string
  result: LoadResult
  verdicts: ThresholdResult[]
  /** responses served from the cache / responses, null for runs without a cache question */
  cacheHitRatio: number | null
  /** the gateway's cache outcomes during the run (proxy-cache's `CACHE_STATUS` slot: Hit, Miss, Bypass, Refresh) */
  cache: Record<string, number>
  /** requests that reached the slow service's origin during the run (what the cache let through); null for runs without a cache question */
  originHits: number | null
  /** Redis' own counters over the run, when a Redis URL is set */
  redis: RedisDelta | null
  /** runs with an outage: calls the broken instance received while it was broken; else null */
  outageOriginCalls: number | null
}

/** A scenario's outcome; `unavailable` says why it stopped before its last run. */
export interface ScenarioOutcome {
  scenario: Scenario
  options: ScenarioOptions
  runs: RunOutcome[]
  unavailable: { run: string; plugins: string[] } | null
  startedAt: Date
  /** the running gateway that was driven (no token), null for the scenario's own in-process gateways */
  gateway: { url: string; adminUrls: string[] } | null
}

export interface ScenarioDeps {
  registry: PluginRegistry
  thresholds: readonly Threshold[]
  latency?: LatencyOptions
  /** a running gateway to drive instead of the scenario's own stack (`--gateway`, `--admin-url`) */
  gateway?: ExternalGateway
  /** called when a run starts, with a progress callback for its load (or undefined) */
  onRunStart?(spec: RunSpec, index: number, total: number): ((s: ProgressSnapshot) => void) | undefined
  onRunEnd?(outcome: RunOutcome): void
  signal?: AbortSignal
}

/**
 * Runs a scenario: the demo backend once, then per run a fresh in-process gateway with the
 * run's configuration (or, with `deps.gateway`, the running gateway given the run's
 * configuration through its Admin API), the same load, and the counters around it. A run whose configuration
 * needs a plugin this build lacks is not faked: the scenario stops there and says which.
 *
 * @example
 *   const outcome = await runScenario(SCENARIOS[0], options, { registry: createRegistry(), thresholds: [] })
 */
export async function runScenario(
  scenario: Scenario,
  options: ScenarioOptions,
  deps: ScenarioDeps,
): Promise<ScenarioOutcome> {
  const specs = scenario.runs(options)
  const outcome: ScenarioOutcome = {
    scenario,
    options,
    runs: [],
    unavailable: null,
    startedAt: new Date(),
    gateway: deps.gateway === undefined ? null : { url: deps.gateway.url, adminUrls: deps.gateway.adminUrls },
  }
  const missingFor = (spec: RunSpec) => spec.needs.filter((p) => deps.registry.get(p) === undefined)
  if (missingFor(specs[0]!).length > 0) {
    outcome.unavailable = { run: specs[0]!.name, plugins: missingFor(specs[0]!) }
    return outcome
  }
  const target = await openTarget(deps)
  const probe = options.redisUrl === undefined ? null : await RedisProbe.connect(options.redisUrl)
  try {
    for (const [index, spec] of specs.entries()) {
      const missing = missingFor(spec)
      if (missing.length > 0) {
        outcome.unavailable = { run: spec.name, plugins: missing }
        break
      }
      if (deps.signal?.aborted) break
      const gw = await target.start(spec.config(target.urls), options.redisUrl)
      try {
        await spec.warmup?.(gw.url)
        const onProgress = deps.onRunStart?.(spec, index, specs.length)
        const cacheBefore = await gw.cacheCounts()
        const originBefore = await target.slowHits()
        const redisBefore = await probe?.snapshot()
        const outage =
          spec.outage === undefined ? null : scheduleOutage(spec.outage, target.urls, options.duration)
        const result = await runLoad({
          ...spec.load(gw.url, options),
          duration: options.duration,
          ...(onProgress && { onProgress }),
          ...(deps.signal && { signal: deps.signal }),
        })
        const outageOriginCalls = outage === null ? null : await outage.done()
        const redis =
          probe === null || redisBefore === undefined
            ? null
            : probe.delta(redisBefore, await probe.snapshot(), result.requests)
        const cache: Record<string, number> = {}
        for (const [k, v] of await gw.cacheCounts())
          if (v > (cacheBefore.get(k) ?? 0)) cache[k] = v - (cacheBefore.get(k) ?? 0)
        const originAfter = spec.measuresCache ? await target.slowHits() : null
        const run: RunOutcome = {
          name: spec.name,
          description: spec.description,
          result,
          verdicts: evaluateThresholds(deps.thresholds, result),
          cacheHitRatio: spec.measuresCache ? (cache.Hit ?? 0) / Math.max(1, result.completed) : null,
          cache,
          originHits: originAfter === null || originBefore === null ? null : originAfter - originBefore,
          redis,
          outageOriginCalls,
        }
        outcome.runs.push(run)
        deps.onRunEnd?.(run)
      } finally {
        await gw.stop()
      }
    }
  } finally {
    await probe?.close()
    await target.close()
  }
  return outcome
}

/**
 * Breaks an instance at `from` of the run and heals it at `to`, reading its call counter at
 * both moments: `done()` (after the load) says how many calls it received while broken, and
 * heals it if the run ended first.
 */
function scheduleOutage(o: Outage, urls: DemoUrls, durationS: number): { done(): Promise<number> } {
  let atBreak: Promise<number> | null = null
  let atHeal: Promise<number> | null = null
  const brk = setTimeout(
    () => {
      atBreak = o.originCalls(urls).then(async (n) => {
        await o.break(urls)
        return n
      })
    },
    o.from * durationS * 1000,
  )
  const heal = setTimeout(
    () => {
      atHeal = o.originCalls(urls).then(async (n) => {
        await o.heal(urls)
        return n
      })
    },
    o.to * durationS * 1000,
  )
  return {
    async done() {
      clearTimeout(brk)
      clearTimeout(heal)
      const start = atBreak === null ? 0 : await atBreak
      const end = atHeal ?? o.originCalls(urls)
      await o.heal(urls)
      return atBreak === null ? 0 : (await end) - start
    },
  }
}

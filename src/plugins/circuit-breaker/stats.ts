import { silentLogger } from '../../core/logger.js'
import type { PluginServices } from '../../core/services.js'
import { slot } from '../../core/slot.js'
import type { Sample, Telemetry } from '../../core/telemetry.js'
import { STATES } from './breaker.js'
import { type BreakerEntry, nodeBreakers, stateOf } from './registry.js'
import { SharedBreaker } from './shared.js'

/**
 * The breaker's verdict on a request: 'passed', 'trial' (one of the half-open trial calls) or
 * 'rejected' (failed fast, no upstream call); '' on requests no breaker looked at. The access
 * log writes it as `circuit_breaker`, so fast failures are marked there.
 */
export const VERDICT = slot<'passed' | 'trial' | 'rejected' | ''>('circuit-breaker.verdict', '')

/** The breaker whose half-open trial this request is (null: none), until its outcome is recorded. */
export const TRIAL = slot<BreakerEntry | null>('circuit-breaker.trial', null)

function labels(e: BreakerEntry): Record<string, string> {
  return { breaker: e.id, service: e.service, target: e.target }
}

/** One breaker as `/healthz`, the Admin API and the admin UI show it. */
export function describe(e: BreakerEntry, now = Date.now()) {
  const g = e.guard
  const shared = g instanceof SharedBreaker
  return {
    id: e.id,
    plugin_id: e.pluginId,
    service: e.service,
    route: e.route,
    target: e.target === '' ? null : e.target,
    policy: e.policy,
    state: stateOf(e),
    // redis policy without Redis: this node decides alone until Redis answers
    mode: shared && g.fallback ? 'local-fallback' : e.policy,
    fallback_reason: shared && g.fallback ? g.fallbackReason : null,
    retry_after_s: Math.ceil(g.remainingMs(now) / 1000),
    open_seconds: (g instanceof SharedBreaker && g.fallback ? g.local.openMs : g.openMs) / 1000,
    changed_at: new Date(e.changedAt).toISOString(),
    counters: { ...g.counters },
    transitions: Object.fromEntries(e.transitions),
  }
}

/**
 * The plugin's series and `/healthz` section: each breaker's state (1 for the current one) and
 * transitions, its calls, failures, slow calls and fast failures, whether it runs on its local
 * fallback; and the verdict per request (`portico_circuit_breaker_requests_total{verdict}`).
 */
export function telemetry(t: Telemetry, services: PluginServices): void {
  const reg = nodeBreakers(services, silentLogger)
  t.outcome(VERDICT, {
    metric: 'portico_circuit_breaker_requests_total',
    help: 'Circuit-breaker verdicts per request: passed, trial (a half-open trial call), rejected (failed fast)',
    label: 'verdict',
    logField: 'circuit_breaker',
  })
  const each = (f: (e: BreakerEntry) => Sample[]) => () => [...reg.entries.values()].flatMap(f)
  t.series(
    'portico_circuit_breaker_state',
    'Each circuit breaker: 1 for its current state (closed, open, half_open, forced_open), 0 for the others',
    'gauge',
    each((e) => {
      const now = stateOf(e)
      return STATES.map((state) => ({ labels: { ...labels(e), state }, value: state === now ? 1 : 0 }))
    }),
  )
  t.series(
    'portico_circuit_breaker_transitions_total',
    'State changes of each circuit breaker seen on this node, by from and to',
    'counter',
    each((e) =>
      [...e.transitions].map(([k, value]) => {
        const [from, to] = k.split('>')
        return { labels: { ...labels(e), from: from!, to: to! }, value }
      }),
    ),
  )
  t.series(
    'portico_circuit_breaker_calls_total',
    'Upstream calls each circuit breaker counted on this node, by result (success, failure, slow); a slow failure counts in both',
    'counter',
    each((e) => {
      const c = e.guard.counters
      return [
        { labels: { ...labels(e), result: 'success' }, value: c.calls - c.failures },
        { labels: { ...labels(e), result: 'failure' }, value: c.failures },
        { labels: { ...labels(e), result: 'slow' }, value: c.slow },
      ]
    }),
  )
  t.series(
    'portico_circuit_breaker_rejected_total',
    'Requests each circuit breaker failed fast on this node (no upstream call)',
    'counter',
    each((e) => [{ labels: labels(e), value: e.guard.counters.rejected }]),
  )
  t.series(
    'portico_circuit_breaker_fallback',
    'Redis-policy breakers deciding on this node alone because Redis cannot be reached (1) or sharing state (0)',
    'gauge',
    each((e) =>
      e.guard instanceof SharedBreaker ? [{ labels: labels(e), value: e.guard.fallback ? 1 : 0 }] : [],
    ),
  )
  services.exposeHealth('circuit_breakers', () => {
    const now = Date.now()
    return [...reg.entries.values()].map((e) => describe(e, now))
  })
}

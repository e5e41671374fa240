import type { RequestContext } from '../core/context.js'
import type { PluginRegistry } from '../core/plugin.js'
import type { PluginServices } from '../core/services.js'
import type { Slot } from '../core/slot.js'
import type { NodeReadings, OutcomeSeries, RequestFacts, Sample, Telemetry } from '../core/telemetry.js'
import { Outcome } from './totals.js'

/** A series a plugin registered, as /metrics renders it. */
export interface RegisteredSeries {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  samples: () => Sample[] | Promise<Sample[]>
}

/**
 * What the plugins registered through their `telemetry` hook: series for /metrics, outcomes for
 * the metrics and the access log, request observers. Filled once at node start, before any
 * request; read by the node's observer (per request) and by /metrics (per scrape).
 *
 * @example
 *   const reg = new TelemetryRegistry(readings)
 *   registerPlugins(plugins, reg, services)
 *   reg.outcomes   // the outcomes plugins registered, in registration order
 */
export class TelemetryRegistry implements Telemetry {
  readonly outcomes: Outcome[] = []
  readonly observers: Array<(ctx: RequestContext, facts: RequestFacts) => void> = []
  /** by name: a second registration of a name replaces the first */
  readonly registered = new Map<string, RegisteredSeries>()
  /** told of each series as it is registered (the node's Prometheus registry) */
  onSeries: ((s: RegisteredSeries) => void) | null = null

  constructor(readonly node: NodeReadings) {}

  series(
    name: string,
    help: string,
    type: RegisteredSeries['type'],
    samples: RegisteredSeries['samples'],
  ): void {
    const s = { name, help, type, samples }
    this.registered.set(name, s)
    this.onSeries?.(s)
  }

  outcome(slot: Slot<string>, series: OutcomeSeries): void {
    const o = new Outcome(slot, series)
    this.outcomes.push(o)
    const label = series.label
    this.series(series.metric, series.help, 'counter', () =>
      [...o.counts].map(([k, value]) => ({ labels: { [label]: k.toLowerCase() }, value })),
    )
  }

  onRequest(observe: (ctx: RequestContext, facts: RequestFacts) => void): void {
    this.observers.push(observe)
  }
}

/** Calls every plugin's registration hook once, in the registry's (alphabetical) order. */
export function registerPlugins(plugins: PluginRegistry, t: Telemetry, services: PluginServices): void {
  for (const name of plugins.names()) plugins.get(name)?.telemetry?.(t, services)
}

import type { Metric, Registry } from 'prom-client'
import type { Sample } from '../core/telemetry.js'
import type { NodeTotals } from './totals.js'

/**
 * A metric whose samples are read from the request path's plain numbers at scrape time, in
 * prom-client's registry (which escapes and formats them with every other metric).
 */
class ScrapedMetric {
  readonly aggregator = 'sum'
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly samples: () => Sample[] | Promise<Sample[]>,
  ) {}
  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: await this.samples(),
      aggregator: 'sum',
    }
  }
  reset(): void {}
}

/**
 * Registers a counter or histogram whose samples come from `samples()` at scrape time.
 *
 * @example
 *   scraped(registry, 'portico_node_requests_total', 'Requests', 'counter', () => [{ labels: {}, value: n }])
 */
export function scraped(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  samples: () => Sample[] | Promise<Sample[]>,
): void {
  registry.registerMetric(new ScrapedMetric(name, help, type, samples) as unknown as Metric<string>)
}

const CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx']

/** Node totals by status class. */
export function classSamples(totals: NodeTotals): Sample[] {
  return CLASSES.map((code_class, i) => ({ labels: { code_class }, value: totals.classes[i]! }))
}

export type { Sample }

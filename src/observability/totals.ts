import type { RequestContext } from '../core/context.js'
import type { Slot } from '../core/slot.js'
import type { OutcomeSeries } from '../core/telemetry.js'

/** Node-wide totals, recorded for every request whatever the plugins say. */
export class NodeTotals {
  /** by status class: index 1..5 for 1xx..5xx, 0 for anything else */
  readonly classes = new Float64Array(6)
  ingress = 0
  egress = 0

  count(status: number, ingress: number, egress: number): void {
    const c = (status / 100) | 0
    this.classes[c >= 1 && c <= 5 ? c : 0]!++
    this.ingress += ingress
    this.egress += egress
  }

  /** requests counted so far */
  get requests(): number {
    let n = 0
    for (const v of this.classes) n += v
    return n
  }
}

/**
 * A per-request outcome a plugin registered: its slot, its series, the counts per value, and
 * the access-log field's prefix built once (`,"verdict":`).
 */
export class Outcome {
  /** value → requests (a handful of values, never a per-request allocation) */
  readonly counts = new Map<string, number>()
  readonly logPrefix: string

  constructor(
    readonly slot: Slot<string>,
    readonly series: OutcomeSeries,
  ) {
    this.logPrefix = `,${JSON.stringify(series.logField)}:`
  }

  record(ctx: RequestContext): void {
    const v = ctx.get(this.slot)
    if (v !== '') this.counts.set(v, (this.counts.get(v) ?? 0) + 1)
  }
}

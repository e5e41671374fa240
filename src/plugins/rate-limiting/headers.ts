import type { RequestContext } from '../../core/context.js'
import type { Limit, Verdict } from './algorithms.js'
import { PERIODS } from './windows.js'

/**
 * The headers one instance sends, with every constant part built at config load:
 * Kong's `X-RateLimit-Limit-<Period>` / `X-RateLimit-Remaining-<Period>` for each window and
 * `RateLimit-Limit` / `-Remaining` / `-Reset` of the most constrained one (lowest remaining,
 * then the longest window, as Kong picks), plus the IETF draft's structured fields
 * (draft-ietf-httpapi-ratelimit-headers-10): `RateLimit-Policy: "<scope>-<period>";q=…;w=…`
 * and `RateLimit: "<scope>-<period>";r=…;t=…`, one item per window.
 */
export class HeaderSet {
  readonly limitNames: string[]
  readonly remainingNames: string[]
  readonly limitValues: string[]
  readonly itemNames: string[]
  readonly policy: string
  readonly sizes: number[]

  constructor(
    limits: readonly Limit[],
    readonly scope: string,
  ) {
    const period = (l: Limit) => PERIODS[l.code - 1]!
    this.limitNames = limits.map((l) => `X-RateLimit-Limit-${period(l).title}`)
    this.remainingNames = limits.map((l) => `X-RateLimit-Remaining-${period(l).title}`)
    this.limitValues = limits.map((l) => String(l.limit))
    this.itemNames = limits.map((l) => `"${scope}-${period(l).name}"`)
    this.policy = limits.map((l, i) => `${this.itemNames[i]};q=${l.limit};w=${l.size / 1000}`).join(', ')
    this.sizes = limits.map((l) => l.size)
  }

  /** index of the window the RateLimit-* trio reports */
  pick(v: Verdict): number {
    if (v[0] !== 0) return v[0]! - 1
    let k = 0
    for (let i = 1; i < this.sizes.length; i++) {
      const r = v[2 + 2 * i]!
      const best = v[2 + 2 * k]!
      if (r < best || (r === best && this.sizes[i]! > this.sizes[k]!)) k = i
    }
    return k
  }

  /** `RateLimit: …` value for this verdict */
  current(v: Verdict): string {
    let s = ''
    for (let i = 0; i < this.itemNames.length; i++) {
      if (i > 0) s += ', '
      s += `${this.itemNames[i]};r=${v[2 + 2 * i]};t=${seconds(v[3 + 2 * i]!)}`
    }
    return s
  }

  /** Adds this verdict's headers to the response. */
  emit(ctx: RequestContext, v: Verdict): void {
    for (let i = 0; i < this.limitNames.length; i++) {
      ctx.addResponseHeader(this.limitNames[i]!, this.limitValues[i]!)
      ctx.addResponseHeader(this.remainingNames[i]!, String(v[2 + 2 * i]))
    }
    const k = this.pick(v)
    ctx.addResponseHeader('RateLimit-Limit', this.limitValues[k]!)
    ctx.addResponseHeader('RateLimit-Remaining', String(v[2 + 2 * k]))
    ctx.addResponseHeader('RateLimit-Reset', String(seconds(v[3 + 2 * k]!)))
    ctx.addResponseHeader('RateLimit-Policy', this.policy)
    ctx.addResponseHeader('RateLimit', this.current(v))
  }

  /**
   * Merges this verdict into headers an earlier instance on the same route already queued
   * (from index `start` of `ctx.responseHeaders`): per window and for the RateLimit-* trio the
   * lower remaining wins, the structured fields list both instances' items.
   */
  merge(ctx: RequestContext, start: number, v: Verdict): void {
    const list = ctx.responseHeaders ?? (ctx.responseHeaders = [])
    const find = (name: string): number => {
      for (let j = start; j < list.length; j += 2) if (list[j] === name) return j
      return -1
    }
    for (let i = 0; i < this.limitNames.length; i++) {
      const rem = v[2 + 2 * i]!
      const j = find(this.remainingNames[i]!)
      if (j === -1) {
        list.push(this.limitNames[i]!, this.limitValues[i]!, this.remainingNames[i]!, String(rem))
      } else if (rem < Number(list[j + 1])) {
        list[j + 1] = String(rem)
        const l = find(this.limitNames[i]!)
        if (l !== -1) list[l + 1] = this.limitValues[i]!
      }
    }
    const k = this.pick(v)
    const rem = v[2 + 2 * k]!
    const j = find('RateLimit-Remaining')
    if (j === -1 || rem < Number(list[j + 1])) {
      const trio: Array<[string, string]> = [
        ['RateLimit-Limit', this.limitValues[k]!],
        ['RateLimit-Remaining', String(rem)],
        ['RateLimit-Reset', String(seconds(v[3 + 2 * k]!))],
      ]
      for (const [name, value] of trio) {
        const at = find(name)
        if (at === -1) list.push(name, value)
        else list[at + 1] = value
      }
    }
    for (const [name, value] of [
      ['RateLimit-Policy', this.policy],
      ['RateLimit', this.current(v)],
    ] as const) {
      const at = find(name)
      if (at === -1) list.push(name, value)
      else list[at + 1] = `${list[at + 1]}, ${value}`
    }
  }
}

/** Whole seconds for Reset / Retry-After / t=: rounded up, at least 1 (Kong's max(1, …)). */
export function seconds(ms: number): number {
  return ms <= 1000 ? 1 : Math.ceil(ms / 1000)
}

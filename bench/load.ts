import { Agent } from 'undici'
import type { LoadOptions } from './options.js'
import type { LoadResult } from './recorder.js'
import { Run } from './run.js'

export type { CheckFn, CheckResponse } from './exchange.js'
export type { LoadOptions } from './options.js'
export type { CheckResult, LoadResult, ProgressSnapshot, TimelinePoint } from './recorder.js'
export type { IterationContext, RequestSource, RequestSpec } from './request.js'

function validate(o: LoadOptions): void {
  for (const [what, v, int] of [
    ['duration', o.duration, false],
    ['vus', o.vus, true],
    ['rate', o.rate, false],
    ['maxVus', o.maxVus, true],
    ['timeout', o.timeout, false],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && (!int || Number.isInteger(v)))) {
      throw new RangeError(`${what} must be a positive ${int ? 'integer' : 'number'}, got ${v}`)
    }
  }
  if (o.rate !== undefined && o.vus !== undefined) {
    throw new RangeError('vus is for a closed loop; with rate, use maxVus')
  }
  if (o.rate === undefined && o.maxVus !== undefined) throw new RangeError('maxVus needs rate (open loop)')
}

/**
 * Drives load at one target and measures it: a closed loop of `vus` users (k6 constant-vus) or,
 * with `rate`, an open loop of arrivals per second (k6 constant-arrival-rate) whose latency
 * counts from each request's scheduled start, so a slow server cannot hide behind its own
 * slowness (coordinated omission).
 *
 * @example
 *   const r = await runLoad({ request: { url: 'http://127.0.0.1:8000/slow' }, vus: 50, duration: 30 })
 *   console.log(r.rate, r.latency.p95, r.failureRate)
 *   await runLoad({
 *     request: { url: 'http://127.0.0.1:8000/limited', headers: { 'x-client': 'c{{rand:100}}' } },
 *     rate: 500, maxVus: 200, duration: 10,
 *     checks: { 'not limited': (res) => res.status !== 429 },
 *   })
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  validate(opts)
  const vus = opts.rate === undefined ? (opts.vus ?? 1) : (opts.maxVus ?? 100)
  // one connection per VU: a request never waits in undici's queue for a socket, so the
  // concurrency measured is the concurrency asked for
  const own = opts.dispatcher === undefined ? new Agent({ connections: vus, pipelining: 1 }) : null
  let run: Run | undefined
  try {
    run = new Run(opts, own ?? opts.dispatcher!, vus, own !== null)
    return await run.start()
  } finally {
    if (own) await (run?.cutting ? own.destroy() : own.close())
  }
}

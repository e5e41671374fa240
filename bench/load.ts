import { Agent, type Dispatcher } from 'undici'
import type { CheckFn } from './exchange.js'
import type { LoadResult, ProgressSnapshot } from './recorder.js'
import type { RequestSource } from './request.js'
import { Run } from './run.js'

export type { CheckFn, CheckResponse } from './exchange.js'
export type { CheckResult, LoadResult, ProgressSnapshot, TimelinePoint } from './recorder.js'
export type { IterationContext, RequestSource, RequestSpec } from './request.js'

export interface LoadOptions {
  request: RequestSource
  /** seconds of load; in-flight requests then get `gracefulStop` seconds to finish */
  duration: number
  /** closed loop: this many virtual users send back to back (k6 constant-vus); default 1 */
  vus?: number
  /** open loop: new requests per second whatever the responses do (k6 constant-arrival-rate) */
  rate?: number
  /** open loop: most requests in flight at once; an arrival finding all busy is dropped; default 100 */
  maxVus?: number
  checks?: Record<string, CheckFn>
  /** statuses that count as success; default 200–399 */
  expectStatus?: number[] | ((status: number) => boolean)
  /** per-request headers and body timeout in ms; default 60000 */
  timeout?: number
  /** seconds to let in-flight requests finish after `duration`; default 10 */
  gracefulStop?: number
  onProgress?: (snapshot: ProgressSnapshot) => void
  /** ms between progress snapshots; default 250 */
  progressInterval?: number
  /** stops early: no new requests, in-flight ones cut off and counted as interrupted */
  signal?: AbortSignal
  /** a dispatcher to send through; default: an Agent with one connection per VU, closed at the end */
  dispatcher?: Dispatcher
}

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

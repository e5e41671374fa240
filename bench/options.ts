import type { Dispatcher } from 'undici'
import type { CheckFn } from './exchange.js'
import type { ProgressSnapshot } from './recorder.js'
import type { RequestSource } from './request.js'

/**
 * What one load run is asked to do (`runLoad`). In its own file so that the runner (run.ts) and
 * the entry point (load.ts) both read it without importing each other.
 */
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

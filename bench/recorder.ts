import { Histogram, type LatencyStats } from './histogram.js'

/** A named check's tally (k6's `check`). */
export interface CheckResult {
  name: string
  passes: number
  fails: number
}

/** One second of the run, by the time requests finished: for charts. */
export interface TimelinePoint {
  /** seconds since the start, 0-based */
  second: number
  /** requests that finished (response or network error) in this second */
  requests: number
  failed: number
  dropped: number
  /** p95 latency of the responses of this second in ms, null when there were none */
  p95: number | null
}

/** What `onProgress` receives about every 250 ms. */
export interface ProgressSnapshot {
  /** seconds since the start */
  elapsed: number
  /** planned duration in seconds */
  duration: number
  requests: number
  completed: number
  /** requests that got no response */
  errors: number
  failed: number
  dropped: number
  inFlight: number
  /** finished requests per second since the previous snapshot (over the whole run in the last one) */
  rate: number
  /** the run is over: this is the last snapshot */
  final: boolean
  /** p95 latency so far in ms, NaN before the first response */
  p95: number
}

/** Everything a run measured. Latencies are in milliseconds. */
export interface LoadResult {
  mode: 'closed' | 'open'
  /** `METHOD url` of a fixed request, `custom requests` for a request function */
  target: string
  /** closed loop: the VUs; open loop: the cap on concurrent requests (`maxVus`) */
  vus: number
  /** open loop: the arrival rate asked for (req/s); null for closed loop */
  targetRate: number | null
  /** planned seconds */
  duration: number
  /** seconds from the start until the last request finished */
  elapsed: number
  /** stopped early by the signal */
  aborted: boolean
  /** requests started */
  requests: number
  /** requests that got a whole response, whatever its status */
  completed: number
  /** requests that got no response: refused, reset, timed out */
  errors: number
  /** errors plus responses with an unexpected status */
  failed: number
  /** failed / (completed + errors) */
  failureRate: number
  /** in flight when the run was stopped and cut off: neither completed nor failed */
  interrupted: number
  /** open loop: arrivals that found every VU busy and were not sent (k6 dropped_iterations) */
  dropped: number
  /** finished requests per second over `elapsed` */
  rate: number
  peakInFlight: number
  /** response body bytes */
  bytesReceived: number
  /** request body bytes */
  bytesSent: number
  statusCounts: Record<string, number>
  errorCounts: Record<string, number>
  checks: CheckResult[]
  /** from the scheduled start (open loop) or the send (closed loop) to the last body byte */
  latency: LatencyStats
  /** from the actual send to the last body byte; equals `latency` in a closed loop */
  serviceTime: LatencyStats
  timeline: TimelinePoint[]
  /** the raw histograms in microseconds, for other percentiles; not part of the JSON report */
  histograms: { latency: Histogram; serviceTime: Histogram }
}

/** The run facts the recorder does not see itself. */
export type RunFacts = Pick<LoadResult, 'mode' | 'target' | 'vus' | 'targetRate' | 'duration' | 'aborted'>

const countsOf = <K>(m: Map<K, number>) => Object.fromEntries([...m].map(([k, v]) => [String(k), v]))

/**
 * Collects samples as they come; every method is O(1) except the once-a-second roll. Times
 * are `performance.now()` milliseconds, latencies microseconds.
 *
 * @example
 *   const rec = new Recorder(performance.now(), ['status is 200'])
 *   rec.started(0)
 *   rec.response(performance.now(), 200, true, 1500, 1500)
 *   rec.result(performance.now(), facts).latency.p95 // 1.5 (ms)
 */
export class Recorder {
  readonly latency = new Histogram()
  readonly serviceTime = new Histogram()
  requests = 0
  completed = 0
  errors = 0
  failed = 0
  interrupted = 0
  dropped = 0
  inFlight = 0
  peakInFlight = 0
  bytesReceived = 0
  bytesSent = 0
  readonly statuses = new Map<number, number>()
  readonly errorCodes = new Map<string, number>()
  readonly checks: CheckResult[]
  private readonly timeline: TimelinePoint[] = []
  private readonly window = new Histogram()
  private bucket = { requests: 0, failed: 0, dropped: 0 }
  private second = 0
  private last = { at: 0, finished: 0 }

  constructor(
    private readonly t0: number,
    checkNames: string[],
  ) {
    this.checks = checkNames.map((name) => ({ name, passes: 0, fails: 0 }))
    this.last.at = t0
  }

  started(bodyBytes: number): void {
    this.requests++
    this.bytesSent += bodyBytes
    if (++this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight
  }

  response(now: number, status: number, ok: boolean, latencyUs: number, serviceUs: number): void {
    this.roll(now)
    this.inFlight--
    this.completed++
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
    this.latency.record(latencyUs)
    this.serviceTime.record(serviceUs)
    this.window.record(latencyUs)
    this.bucket.requests++
    if (!ok) this.fail()
  }

  error(now: number, code: string): void {
    this.roll(now)
    this.inFlight--
    this.errors++
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1)
    this.bucket.requests++
    this.fail()
  }

  cutOff(): void {
    this.inFlight--
    this.interrupted++
  }

  drop(now: number): void {
    this.roll(now)
    this.dropped++
    this.bucket.dropped++
  }

  /** `final`: the run is over, and the rate is taken over all of it rather than the last moments */
  snapshot(now: number, duration: number, final = false): ProgressSnapshot {
    this.roll(now)
    const finished = this.completed + this.errors
    const from = final ? { at: this.t0, finished: 0 } : this.last
    const span = (now - from.at) / 1000
    const rate = span > 0 ? (finished - from.finished) / span : 0
    this.last = { at: now, finished }
    const { requests, completed, errors, failed, dropped, inFlight } = this
    const p95 = this.latency.percentile(95) / 1000
    return {
      elapsed: (now - this.t0) / 1000,
      duration,
      requests,
      completed,
      errors,
      failed,
      dropped,
      inFlight,
      rate,
      p95,
      final,
    }
  }

  result(now: number, facts: RunFacts): LoadResult {
    this.roll(now)
    if (this.bucket.requests + this.bucket.dropped > 0 || this.timeline.length === 0) this.flush()
    const elapsed = (now - this.t0) / 1000
    const finished = this.completed + this.errors
    return {
      ...facts,
      elapsed,
      requests: this.requests,
      completed: this.completed,
      errors: this.errors,
      failed: this.failed,
      failureRate: finished === 0 ? 0 : this.failed / finished,
      interrupted: this.interrupted,
      dropped: this.dropped,
      rate: elapsed > 0 ? finished / elapsed : 0,
      peakInFlight: this.peakInFlight,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      statusCounts: countsOf(this.statuses),
      errorCounts: countsOf(this.errorCodes),
      checks: this.checks,
      latency: this.latency.stats(1000),
      serviceTime: this.serviceTime.stats(1000),
      timeline: this.timeline,
      histograms: { latency: this.latency, serviceTime: this.serviceTime },
    }
  }

  private fail(): void {
    this.failed++
    this.bucket.failed++
  }

  /** Closes every whole second that has passed; samples arrive in time order, so one window will do. */
  private roll(now: number): void {
    const second = Math.floor((now - this.t0) / 1000)
    while (this.second < second) this.flush()
  }

  private flush(): void {
    const p95 = this.window.count === 0 ? null : this.window.percentile(95) / 1000
    this.timeline.push({ second: this.second++, ...this.bucket, p95 })
    this.bucket = { requests: 0, failed: 0, dropped: 0 }
    this.window.reset()
  }
}

import type { Config } from './schema.js'

/** `forced_open`: held open from the Admin API until it is closed there. */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'forced_open'
export const STATES: readonly BreakerState[] = ['closed', 'open', 'half_open', 'forced_open']

/** What a request is: let through, one of the half-open trial calls, or failed fast. */
export type Verdict = 'pass' | 'trial' | 'reject'

/** The config figures a breaker decides with, in ms where the config says seconds. */
export interface Thresholds {
  windowS: number
  minimumCalls: number
  failureRate: number
  /** 0: slow calls are not looked at */
  slowMs: number
  slowRate: number
  openMs: number
  maxOpenMs: number
  halfOpenCalls: number
}

export function thresholdsOf(c: Config): Thresholds {
  return {
    windowS: c.window_seconds,
    minimumCalls: c.minimum_calls,
    failureRate: c.failure_rate_threshold,
    slowMs: c.slow_call_ms,
    slowRate: c.slow_call_rate_threshold,
    openMs: Math.round(c.open_seconds * 1000),
    maxOpenMs: Math.round(c.max_open_seconds * 1000),
    halfOpenCalls: c.half_open_calls,
  }
}

/**
 * Calls, failures and slow calls over the last `seconds` seconds, in one-second buckets
 * (Resilience4j's time-based sliding window): a record is an index and three increments.
 */
export class Window {
  readonly calls: Uint32Array
  readonly failures: Uint32Array
  readonly slow: Uint32Array
  #second = 0

  constructor(readonly seconds: number) {
    this.calls = new Uint32Array(seconds)
    this.failures = new Uint32Array(seconds)
    this.slow = new Uint32Array(seconds)
  }

  add(now: number, failed: boolean, slow: boolean): void {
    this.addMany(now, 1, failed ? 1 : 0, slow ? 1 : 0)
  }

  /** several outcomes of the same second at once (a worker's batch) */
  addMany(now: number, calls: number, failures: number, slow: number): void {
    const b = this.#advance(now)
    this.calls[b] += calls
    this.failures[b] += failures
    this.slow[b] += slow
  }

  totals(now: number): { calls: number; failures: number; slow: number } {
    this.#advance(now)
    let calls = 0
    let failures = 0
    let slow = 0
    for (let i = 0; i < this.seconds; i++) {
      calls += this.calls[i]
      failures += this.failures[i]
      slow += this.slow[i]
    }
    return { calls, failures, slow }
  }

  clear(): void {
    this.calls.fill(0)
    this.failures.fill(0)
    this.slow.fill(0)
  }

  #advance(now: number): number {
    const s = Math.floor(now / 1000)
    const gap = Math.min(s - this.#second, this.seconds)
    for (let i = 1; i <= gap; i++) {
      const b = (this.#second + i) % this.seconds
      this.calls[b] = 0
      this.failures[b] = 0
      this.slow[b] = 0
    }
    if (s > this.#second) this.#second = s
    return this.#second % this.seconds
  }
}

/** Does a window's content open a closed breaker? (shared with the Redis script's rule) */
export function trips(t: Thresholds, calls: number, failures: number, slow: number): boolean {
  if (calls < t.minimumCalls) return false
  if (failures * 100 >= t.failureRate * calls) return true
  return t.slowMs > 0 && slow * 100 >= t.slowRate * calls
}

/** Counters one breaker keeps since the node started (for the Admin API and /metrics). */
export interface BreakerCounters {
  calls: number
  failures: number
  slow: number
  /** requests failed fast */
  rejected: number
  /** half-open trial calls let through */
  trials: number
}

/**
 * `counted` is false where another process of the node already counts this transition: a
 * node-wide breaker's transition reaches every worker, and a node's `/metrics` sums its
 * workers' counters, so one worker counts it (and logs it).
 */
export type TransitionListener = (from: BreakerState, to: BreakerState, counted?: boolean) => void

/**
 * One breaker's state machine on this node: closed → open when the window trips; open →
 * half-open when the open period ends (on the next request that asks); half-open → closed once
 * `halfOpenCalls` trial calls all succeeded, → open again (for twice as long, up to the max) at
 * the first failed one. Time comes in as `now` (ms) so tests drive it.
 */
export class LocalBreaker {
  state: BreakerState = 'closed'
  /** open: when trial calls may start (ms since the epoch) */
  until = 0
  /** the open period now in force (doubles after a failed trial) */
  openMs: number
  trialsIssued = 0
  trialsOk = 0
  halfOpenSince = 0
  window: Window
  readonly counters: BreakerCounters = { calls: 0, failures: 0, slow: 0, rejected: 0, trials: 0 }

  constructor(
    public t: Thresholds,
    readonly onTransition: TransitionListener,
  ) {
    this.openMs = t.openMs
    this.window = new Window(t.windowS)
  }

  /** a new config for the same breaker (a reload): the state stays, the figures change */
  reconfigure(t: Thresholds): void {
    if (t.windowS !== this.t.windowS) this.window = new Window(t.windowS)
    if (this.state === 'closed') this.openMs = t.openMs
    else this.openMs = Math.min(Math.max(this.openMs, t.openMs), t.maxOpenMs)
    this.t = t
  }

  /**
   * Would a request be refused now? A pure check (the balancer asks it of every candidate
   * target): open and not yet over, or half-open with every trial call taken.
   */
  refuses(now: number): boolean {
    if (this.state === 'forced_open') return true
    if (this.state === 'open') return now < this.until
    if (this.state === 'half_open') return !this.#trialFree(now)
    return false
  }

  /** Lets a request through, as a trial call, or not; a trial is taken from the half-open allowance. */
  admit(now: number): Verdict {
    if (this.state === 'closed') return 'pass'
    if (this.state === 'open' && now >= this.until) this.#halfOpen(now)
    if (this.state === 'half_open' && this.#trialFree(now)) {
      this.trialsIssued++
      this.counters.trials++
      return 'trial'
    }
    this.counters.rejected++
    return 'reject'
  }

  /** a trial call that never reached the upstream (the client left): its place is free again */
  release(): void {
    if (this.state === 'half_open' && this.trialsIssued > 0) this.trialsIssued--
  }

  /** One call's outcome. Calls that end while the breaker is open (sent before it opened) are not counted. */
  record(now: number, failed: boolean, slow: boolean, trial: boolean): void {
    this.counters.calls++
    if (failed) this.counters.failures++
    if (slow) this.counters.slow++
    if (trial) {
      if (this.state !== 'half_open') return
      if (failed || slow) return this.#open(now, Math.min(this.openMs * 2, this.t.maxOpenMs))
      if (++this.trialsOk >= this.t.halfOpenCalls) this.#close()
      return
    }
    if (this.state !== 'closed') return
    this.window.add(now, failed, slow)
    this.#check(now)
  }

  /**
   * A batch of (non-trial) outcomes, judged once as the window holds them after the batch (the
   * node's breaker on a node with workers: each worker's outcomes of the last few ms).
   */
  recordMany(now: number, calls: number, failures: number, slow: number): void {
    this.counters.calls += calls
    this.counters.failures += failures
    this.counters.slow += slow
    if (this.state !== 'closed' || calls === 0) return
    this.window.addMany(now, calls, failures, slow)
    this.#check(now)
  }

  #check(now: number): void {
    const w = this.window.totals(now)
    if (trips(this.t, w.calls, w.failures, w.slow)) this.#open(now, this.t.openMs)
  }

  /** ms until trial calls may start (0 when they may now); for Retry-After */
  remainingMs(now: number): number {
    if (this.state === 'forced_open') return this.t.openMs
    return this.state === 'open' ? Math.max(0, this.until - now) : 0
  }

  /** the Admin API's force: held open until closed there, or closed now with a clean window */
  force(open: boolean, now: number): void {
    if (open) {
      this.#set('forced_open')
      this.until = now + this.t.openMs
      return
    }
    this.#close()
  }

  /** takes a state decided elsewhere (the shared state when Redis goes away) */
  adopt(state: BreakerState, until: number, openMs: number, now: number): void {
    this.until = until
    this.openMs = openMs
    // the window is kept: what this node saw while the shared state decided still counts
    if (state === 'half_open') this.#halfOpen(now)
    else if (state !== this.state) this.#set(state)
  }

  #trialFree(now: number): boolean {
    // trials handed out but never reported (a node died with them) are given back after a window
    if (this.trialsIssued >= this.t.halfOpenCalls && now - this.halfOpenSince > this.t.windowS * 1000) {
      this.halfOpenSince = now
      this.trialsIssued = this.trialsOk
    }
    return this.trialsIssued < this.t.halfOpenCalls
  }

  #open(now: number, openMs: number): void {
    this.openMs = openMs
    this.until = now + openMs
    this.#set('open')
  }

  #halfOpen(now: number): void {
    this.trialsIssued = 0
    this.trialsOk = 0
    this.halfOpenSince = now
    this.#set('half_open')
  }

  #close(): void {
    this.window.clear()
    this.openMs = this.t.openMs
    this.trialsIssued = 0
    this.trialsOk = 0
    this.#set('closed')
  }

  #set(to: BreakerState): void {
    const from = this.state
    if (from === to) return
    this.state = to
    this.onTransition(from, to)
  }
}

import type { BreakerCounters, BreakerState, Thresholds, Verdict } from './breaker.js'

/** Outcomes are sent to the breaker's authority in one batch per breaker at most this often (ms). */
export const FLUSH_MS = 50
/** How long a breaker stops asking for trial calls after its authority said none is left (ms). */
const NO_TRIAL_BACKOFF_MS = 100

/**
 * What the redis policy's breaker (shared.ts) and a worker's node-wide breaker (peer.ts) have in
 * common: the state machine runs elsewhere (Redis, or the node's primary), and this holds the
 * last state that authority sent. Every decision on the request path reads it in memory; the
 * non-trial outcomes go in one batch per {@link FLUSH_MS}; half-open trial calls are asked of
 * the authority one question at a time, so their number holds across nodes or workers.
 */
export abstract class MirroredBreaker {
  state: BreakerState = 'closed'
  /** local time the open period ends */
  until = 0
  openMs: number
  /** the authority's transition count for this breaker: older messages are ignored */
  gen = 0
  /** trial calls the authority granted here and no request has taken yet */
  permits = 0
  abstract readonly counters: BreakerCounters
  /** non-trial outcomes counted since the last batch */
  protected pending = { calls: 0, failures: 0, slow: 0 }
  protected flushTimer: NodeJS.Timeout | null = null
  #acquiring = false
  #acquisition: Promise<void> = Promise.resolve()
  #noTrialUntil = 0

  constructor(public t: Thresholds) {
    this.openMs = t.openMs
  }

  /** sends the batch of outcomes to the authority */
  abstract flush(): void

  /**
   * Asks the authority for one trial call, after adopting the state it answers with: true when
   * granted, false when none is left (asked again after a short pause), null when the question
   * failed in a way the breaker handles itself.
   */
  protected abstract askTrial(): Promise<boolean | null>

  refuses(now: number): boolean {
    if (this.state === 'closed') return false
    if (this.state === 'forced_open' || (this.state === 'open' && now < this.until)) return true
    if (this.permits > 0) return false
    this.#acquire(now)
    return true
  }

  admit(now: number): Verdict {
    if (this.state === 'closed') return 'pass'
    if (this.state !== 'forced_open' && !(this.state === 'open' && now < this.until)) {
      if (this.permits > 0) {
        this.permits--
        this.counters.trials++
        return 'trial'
      }
      this.#acquire(now)
    }
    this.counters.rejected++
    return 'reject'
  }

  /**
   * After {@link admit} said 'reject' while a trial call is being asked for: the answer of that
   * question, taking the trial if one was granted; null when nothing is being asked.
   */
  pendingTrial(): Promise<Verdict> | null {
    if (!this.#acquiring) return null
    return this.#acquisition.then(() => {
      if (this.permits <= 0 || this.state !== 'half_open') return 'reject'
      this.counters.rejected--
      this.permits--
      this.counters.trials++
      return 'trial'
    })
  }

  remainingMs(now: number): number {
    if (this.state === 'forced_open') return this.t.openMs
    return this.state === 'open' ? Math.max(0, this.until - now) : 0
  }

  /** counts a non-trial outcome for the next batch (only while closed: the authority decides the rest) */
  protected countOutcome(failed: boolean, slow: boolean): void {
    if (this.state !== 'closed') return
    const p = this.pending
    p.calls++
    if (failed) p.failures++
    if (slow) p.slow++
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS).unref()
  }

  /** adopts a state the authority sent (`left`: ms still open); returns the state before */
  protected adoptState(s: BreakerState, left: number, openMs: number, gen: number): BreakerState {
    const from = this.state
    if (gen !== this.gen) this.permits = 0
    this.gen = gen
    this.state = s
    this.openMs = openMs
    this.until = Date.now() + left
    return from
  }

  #acquire(now: number): void {
    if (this.#acquiring || now < this.#noTrialUntil) return
    this.#acquiring = true
    this.#acquisition = this.askTrial()
      .then((granted) => {
        if (granted === true) this.permits++
        else if (granted === false) this.#noTrialUntil = Date.now() + NO_TRIAL_BACKOFF_MS
      })
      .finally(() => {
        this.#acquiring = false
      })
  }
}

/**
 * Retries that cannot make an outage worse (DESIGN §2.4): a jittered exponential pause before
 * each retry, and a retry budget per upstream, so a failing upstream does not see every request
 * two or three times over.
 */

/** Envoy's defaults: 25 ms base interval, at most ten times that. */
export const BACKOFF_BASE_MS = 25
export const BACKOFF_MAX_MS = 250

/**
 * The pause before retry `n` (1 for the first retry): "full jitter" (a uniform draw between 0
 * and `base · 2^(n-1)`, capped), which spreads the retries of many clients that failed at the
 * same moment instead of sending them back together.
 *
 * @example
 *   backoffMs(1) // 0–25 ms
 *   backoffMs(3) // 0–100 ms
 */
export function backoffMs(n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, n - 1))
  return Math.floor(random() * ceiling)
}

/** Finagle's and Envoy's budget figures: retries ≤ 20 % of requests over 10 s, at least 3 a second. */
export const BUDGET_WINDOW_S = 10
export const BUDGET_RATIO = 0.2
export const BUDGET_FLOOR_PER_S = 3

/**
 * One upstream's retry budget on this node: requests and retries counted in one-second buckets
 * over the last {@link BUDGET_WINDOW_S} seconds. A retry is allowed while the retries in the
 * window stay at most `max(20 % of the requests, 3 per second of the window)`; past it the
 * failure is answered as it is. Two typed arrays and a second counter: no allocation per request.
 */
export class RetryBudget {
  readonly #requests = new Uint32Array(BUDGET_WINDOW_S)
  readonly #retries = new Uint32Array(BUDGET_WINDOW_S)
  /** the second the buckets were last advanced to */
  #second = 0
  /** counters since the node started, for /metrics */
  requests = 0
  retries = 0
  /** retries refused because the budget was spent */
  exhausted = 0
  /** retries not sent because every other target's breaker was open */
  vetoed = 0

  constructor(private readonly now: () => number = Date.now) {}

  /** a request to this upstream started (each one adds 20 % of a retry to the budget) */
  request(): void {
    this.#advance()
    this.#requests[this.#second % BUDGET_WINDOW_S]++
    this.requests++
  }

  /** asks for one retry: true (and counted) when the budget allows it */
  tryRetry(): boolean {
    this.#advance()
    if (this.#spent() + 1 > this.allowance()) {
      this.exhausted++
      return false
    }
    this.#retries[this.#second % BUDGET_WINDOW_S]++
    this.retries++
    return true
  }

  /** retries the window allows now */
  allowance(): number {
    this.#advance()
    let requests = 0
    for (const n of this.#requests) requests += n
    return Math.max(BUDGET_RATIO * requests, BUDGET_FLOOR_PER_S * BUDGET_WINDOW_S)
  }

  /** retries the window allows and has not used (for /metrics) */
  remaining(): number {
    return Math.max(0, Math.floor(this.allowance() - this.#spent()))
  }

  #spent(): number {
    let n = 0
    for (const r of this.#retries) n += r
    return n
  }

  #advance(): void {
    const s = Math.floor(this.now() / 1000)
    if (s === this.#second) return
    // clear the buckets of the seconds that went by (all of them after a long quiet spell)
    const gap = Math.min(s - this.#second, BUDGET_WINDOW_S)
    for (let i = 1; i <= gap; i++) {
      const b = (this.#second + i) % BUDGET_WINDOW_S
      this.#requests[b] = 0
      this.#retries[b] = 0
    }
    this.#second = s
  }
}

/**
 * The node's retry budgets, one per upstream name (a plain-host service's `host:port`), kept
 * across configuration reloads like health state.
 */
export class RetryBudgets {
  readonly #byUpstream = new Map<string, RetryBudget>()

  of(upstream: string): RetryBudget {
    let b = this.#byUpstream.get(upstream)
    if (b === undefined) this.#byUpstream.set(upstream, (b = new RetryBudget()))
    return b
  }

  /** every budget, for /metrics */
  entries(): ReadonlyArray<[string, RetryBudget]> {
    return [...this.#byUpstream]
  }
}

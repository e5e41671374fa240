import { fixedEnd, fixedStart } from './windows.js'

/**
 * The three algorithms, as the local store runs them. `lua.ts` is the same logic for Redis,
 * line for line; `algorithms.test.ts` runs both on the same request sequences and compares.
 *
 * - fixed-window (Kong's): a counter per calendar window; exact, but a client may send 2×L
 *   across a window boundary.
 * - sliding-window: the two-window weighted counter. Estimate = previous window's count ×
 *   (the share of it still inside the sliding window) + current count; a request is admitted
 *   while estimate + 1 ≤ L. O(1) state. Never more than L in one aligned window; exact over any
 *   sliding window when the previous window's traffic was spread evenly, and at worst (all of
 *   the previous window's requests in its last instant) it admits up to 2×L in a sliding window.
 * - token-bucket: GCRA (one "theoretical arrival time" per window): rate L per window,
 *   capacity `burst` (default L). Exact; no counter to reset, so no boundary burst.
 *
 * A refused request changes nothing in any window.
 */
export const FIXED = 1
export const SLIDING = 2
export const TOKEN = 3
export type Algorithm = typeof FIXED | typeof SLIDING | typeof TOKEN

/** One configured window of a plugin instance, compiled. */
export interface Limit {
  /** period code (1 second … 6 year) */
  readonly code: number
  /** ms: sliding-window and token-bucket length */
  readonly size: number
  readonly limit: number
  /** token bucket: capacity (burst); else the limit */
  readonly capacity: number
  /** token bucket: ms per token (size / limit) */
  readonly interval: number
}

/** numbers of state per window, by algorithm */
export const STRIDE = [0, 2, 3, 1] as const

/** per-key state: `[expiresAt, …windows × STRIDE[algo]]` */
export function stateSize(algo: Algorithm, n: number): number {
  return 1 + STRIDE[algo] * n
}

/**
 * Result slots filled by {@link consume} (and by the Redis script, in the same order):
 * `[refused, retryMs, remaining₀, resetMs₀, remaining₁, resetMs₁, …]`. `refused` is 0 when the
 * request is admitted, else 1 + the index of the window that refused it last (the one with the
 * longest wait); `retryMs` is that wait.
 */
export type Verdict = Float64Array | number[]

const EPS = 1e-9

/**
 * Checks every window for one key at `now` and, only if all have room, records the request.
 * Allocates nothing. A hot path (every request of the local policy): the three algorithms'
 * check and record stay in one function of plain loops over a typed array, on purpose, so V8
 * can optimise it as one loop with no calls in between.
 *
 * @example
 *   const out = new Float64Array(2 + 2 * limits.length)
 *   if (consume(FIXED, limits, state, 0, Date.now(), out)) proceed()
 */
export function consume(
  algo: Algorithm,
  limits: readonly Limit[],
  s: Float64Array,
  base: number,
  now: number,
  out: Verdict,
): boolean {
  let refused = 0
  let retry = 0
  const stride = STRIDE[algo]
  // first pass: verdict and figures, nothing written. `remaining` is what is left before this
  // request; a refusal reports it as is for the windows that had room (Kong does), an admission
  // takes one off below
  for (let i = 0; i < limits.length; i++) {
    const w = limits[i]!
    const o = base + 1 + i * stride
    let remaining: number
    let reset: number
    let wait = 0
    if (algo === FIXED) {
      const start = fixedStart(w.code, now)
      const end = fixedEnd(w.code, now)
      const count = s[o] === start ? s[o + 1]! : 0
      reset = end - now
      if (count + 1 > w.limit) {
        remaining = Math.max(0, Math.floor(w.limit - count))
        wait = reset
      } else remaining = Math.floor(w.limit - count)
    } else if (algo === SLIDING) {
      const size = w.size
      const cur = now - (now % size)
      const prev = s[o] === cur ? s[o + 2]! : s[o] === cur - size ? s[o + 1]! : 0
      const curr = s[o] === cur ? s[o + 1]! : 0
      const elapsed = now - cur
      const estimate = (prev * (size - elapsed)) / size + curr
      reset = size - elapsed
      if (estimate + 1 > w.limit + EPS) {
        remaining = 0
        wait = slidingWait(w.limit, prev, curr, elapsed, size)
      } else remaining = Math.floor(w.limit - estimate + EPS)
    } else {
      const tat = Math.max(s[o]!, now)
      const next = tat + w.interval
      const allowAt = next - w.capacity * w.interval
      if (now + EPS < allowAt) {
        remaining = 0
        wait = allowAt - now
        reset = tat - now
      } else {
        remaining = Math.floor((now - allowAt) / w.interval + EPS) + 1
        reset = next - now
      }
    }
    out[2 + 2 * i] = remaining
    out[3 + 2 * i] = Math.ceil(reset)
    if (wait > 0 && (refused === 0 || wait >= retry)) {
      refused = i + 1
      retry = wait
    }
  }
  out[0] = refused
  out[1] = Math.ceil(retry)
  if (refused !== 0) return false
  // second pass: record the request in every window
  let expires = 0
  for (let i = 0; i < limits.length; i++) {
    const w = limits[i]!
    const o = base + 1 + i * stride
    out[2 + 2 * i] = out[2 + 2 * i]! - 1
    if (algo === FIXED) {
      const start = fixedStart(w.code, now)
      s[o + 1] = s[o] === start ? s[o + 1]! + 1 : 1
      s[o] = start
      expires = Math.max(expires, fixedEnd(w.code, now))
    } else if (algo === SLIDING) {
      const size = w.size
      const cur = now - (now % size)
      if (s[o] !== cur) {
        s[o + 2] = s[o] === cur - size ? s[o + 1]! : 0
        s[o + 1] = 0
        s[o] = cur
      }
      s[o + 1] = s[o + 1]! + 1
      expires = Math.max(expires, cur + 2 * size)
    } else {
      const next = Math.max(s[o]!, now) + w.interval
      s[o] = next
      expires = Math.max(expires, next)
    }
  }
  s[base] = expires
  return true
}

/**
 * Time until a sliding window admits one more request: within the current window while the
 * previous window's weight fades, or else into the next window.
 */
function slidingWait(limit: number, prev: number, curr: number, elapsed: number, size: number): number {
  if (curr + 1 <= limit + EPS && prev > 0) {
    // prev × (size − e) / size + curr + 1 ≤ limit  ⇔  e ≥ size × (1 − (limit − 1 − curr) / prev)
    const e = size * (1 - (limit - 1 - curr) / prev)
    // − 1e-6: 60000 × 0.3 is 18000.000000000004 in floating point, which must not become 18001
    return Math.max(1, Math.ceil(e - elapsed - 1e-6))
  }
  // next window: curr becomes the previous one
  const e = curr > 0 ? Math.max(0, size * (1 - (limit - 1) / curr)) : 0
  return Math.max(1, size - elapsed + Math.ceil(e - 1e-6))
}

/**
 * Gives back `units` requests recorded by {@link consume} at `t0` (default: one, now): a later
 * instance on the same route refused it, or a block of them went unused (node-primary.ts). A
 * fixed window takes them off while it is still the window of `t0` (after it, the count has
 * restarted anyway); a sliding window off the window they were counted in, current or (after the
 * boundary) previous, where they still weigh on the estimate; a token bucket moves its arrival
 * time back by that many tokens, never before now. `lease-lua.ts` (mode 2) is the same in Lua.
 */
export function refund(
  algo: Algorithm,
  limits: readonly Limit[],
  s: Float64Array,
  base: number,
  now: number,
  units = 1,
  t0 = now,
): void {
  const stride = STRIDE[algo]
  for (let i = 0; i < limits.length; i++) {
    const w = limits[i]!
    const o = base + 1 + i * stride
    if (algo === FIXED) {
      if (s[o] === fixedStart(w.code, t0) && s[o + 1]! > 0) s[o + 1] = Math.max(0, s[o + 1]! - units)
    } else if (algo === SLIDING) {
      const cur0 = t0 - (t0 % w.size)
      if (s[o] === cur0 && s[o + 1]! > 0) s[o + 1] = Math.max(0, s[o + 1]! - units)
      else if (s[o] === cur0 + w.size && s[o + 2]! > 0) s[o + 2] = Math.max(0, s[o + 2]! - units)
    } else if (s[o]! > now) {
      s[o] = Math.max(now, s[o]! - units * w.interval)
    }
  }
}

import type { Logger } from '../../core/logger.js'
import type { RedisBreakerState } from '../../core/services.js'

/** After a call fails or misses its deadline, skip Redis for this long before probing it again. */
export const BREAK_MS = 250

/**
 * The breaker of one Redis connection, shared by every feature on it. Open (`openUntil` > 0):
 * request-path calls fail at once until then; after that one call probes while the others keep
 * failing, and its outcome closes or re-opens it. So a stalled Redis costs each request at most
 * one deadline and commands stop piling up on it. The first failure and the recovery are logged
 * once each; `opened` counts how often it opened (a metric).
 *
 * @example
 *   if (!breaker.allow(performance.now())) return failOpen()
 */
export class Breaker {
  openUntil = 0
  probing = false
  failing = false
  /** times the breaker opened since the node started */
  opened = 0

  constructor(
    /** the connection, as logged (password masked) */
    readonly name: string,
    readonly log: Logger,
  ) {}

  get state(): RedisBreakerState {
    if (this.openUntil === 0) return 'closed'
    return this.probing || performance.now() >= this.openUntil ? 'half-open' : 'open'
  }

  /** True when a call would be let through now (claims nothing: {@link allow} does). */
  wouldAllow(now: number): boolean {
    return this.openUntil === 0 || (now >= this.openUntil && !this.probing)
  }

  /** True when a request-path call may go now (it becomes the probe when the break is over). */
  allow(now: number): boolean {
    if (this.openUntil === 0) return true
    if (now < this.openUntil || this.probing) return false
    this.probing = true
    return true
  }

  /** A call failed or missed its deadline: skip Redis for {@link BREAK_MS}. */
  open(reason: string): void {
    if (this.openUntil === 0) this.opened++
    this.openUntil = performance.now() + BREAK_MS
    this.probing = false
    this.markFailing(reason)
  }

  succeeded(): void {
    this.openUntil = 0
    this.probing = false
    if (this.failing) {
      this.failing = false
      this.log.warn({ redis: this.name }, 'Redis answers again; every feature on it works as configured')
    }
  }

  markFailing(reason: string): void {
    if (this.failing) return
    this.failing = true
    this.log.warn({ redis: this.name, reason }, "Redis is failing; each feature's failure mode applies")
  }
}

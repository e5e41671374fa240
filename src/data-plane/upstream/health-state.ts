import type { HealthcheckActive, UpstreamEntity } from '../../core/entities.js'
import type { Outcome } from './types.js'

/**
 * What took a target out: passive checks, active probes, or the Admin API
 * (`PUT /upstreams/{u}/targets/{t}/unhealthy`, which holds until it is set healthy again or an
 * active probe brings it back).
 */
export type HealthCause = 'passive' | 'active' | 'manual'

/** How one observation counts: an outcome after its status has been classified. */
export type Verdict = Outcome | 'neutral'

interface Thresholds {
  readonly successes: number
  readonly http_failure: number
  readonly tcp_failure: number
  readonly timeout: number
  /** indexed by status code: 1 when the status counts as healthy / unhealthy */
  readonly healthyStatus: Uint8Array
  readonly unhealthyStatus: Uint8Array
}

/** An upstream's `healthchecks`, compiled once per config into what the hot path reads. */
export interface HealthPolicy {
  /** Kong's rule: any active interval or passive unhealthy counter set → checks are on */
  readonly enabled: boolean
  readonly passiveOn: boolean
  readonly passive: Thresholds
  readonly active: Thresholds
  readonly activeConfig: HealthcheckActive
  /** `upstream.host_header`: probes send it as Host, as Kong's do */
  readonly hostHeader: string | undefined
  /** ms before a passively failed target carries a trial request; Infinity = never */
  readonly cooldownMs: number
  /** percentage of total weight that must be available (Kong's `threshold`) */
  readonly threshold: number
}

function statusSet(codes: readonly number[]): Uint8Array {
  const set = new Uint8Array(1000)
  for (const c of codes) if (c >= 0 && c < 1000) set[c] = 1
  return set
}

/**
 * Compiles `upstream.healthchecks`. The cool-down is Portico's addition to passive checks: Kong
 * never brings a passively failed target back by itself. When active probes watch unhealthy
 * targets and can declare them healthy, they decide instead and the cool-down is not used.
 *
 * @example
 *   const policy = compilePolicy(upstream, 10_000)
 */
export function compilePolicy(upstream: UpstreamEntity, cooldownMs: number): HealthPolicy {
  const hc = upstream.healthchecks
  const { active, passive } = hc
  const passiveOn =
    passive.unhealthy.http_failures > 0 ||
    passive.unhealthy.tcp_failures > 0 ||
    passive.unhealthy.timeouts > 0
  const enabled = passiveOn || active.healthy.interval > 0 || active.unhealthy.interval > 0
  const activeRevives = active.unhealthy.interval > 0 && active.healthy.successes > 0
  return {
    enabled,
    passiveOn,
    passive: {
      successes: passive.healthy.successes,
      http_failure: passive.unhealthy.http_failures,
      tcp_failure: passive.unhealthy.tcp_failures,
      timeout: passive.unhealthy.timeouts,
      healthyStatus: statusSet(passive.healthy.http_statuses),
      unhealthyStatus: statusSet(passive.unhealthy.http_statuses),
    },
    active: {
      successes: active.healthy.successes,
      http_failure: active.unhealthy.http_failures,
      tcp_failure: active.unhealthy.tcp_failures,
      timeout: active.unhealthy.timeouts,
      healthyStatus: statusSet(active.healthy.http_statuses),
      unhealthyStatus: statusSet(active.unhealthy.http_statuses),
    },
    activeConfig: active,
    hostHeader: upstream.host_header ?? undefined,
    cooldownMs: activeRevives ? Number.POSITIVE_INFINITY : cooldownMs,
    threshold: hc.threshold,
  }
}

/** Classifies a status against one mode's lists; statuses in neither list do not count. */
export function classifyStatus(t: Thresholds, status: number): Verdict {
  if (t.unhealthyStatus[status] === 1) return 'http_failure'
  if (t.healthyStatus[status] === 1) return 'success'
  return 'neutral'
}

/**
 * Health and load of one target of one upstream, shared by every balancer built for it.
 * Counters follow lua-resty-healthcheck: a success clears the failure counters of its mode, a
 * failure clears the success counter, and each failure kind has its own threshold (0 = off).
 */
export class TargetHealth {
  healthy = true
  /** requests in flight, across every balancer that shares this state */
  active = 0
  cause: HealthCause | '' = ''
  /**
   * true once a passively failed target's cool-down is over: it takes requests again as trials.
   * A timer opens it, so a pick reads a flag instead of the clock.
   */
  trialOpen = false
  /** balancers holding this state; when 0, `releasedAt` says since when */
  refs = 0
  releasedAt = 0
  private trialTimer: NodeJS.Timeout | undefined
  private readonly passiveCount = { success: 0, http_failure: 0, tcp_failure: 0, timeout: 0 }
  private readonly activeCount = { success: 0, http_failure: 0, tcp_failure: 0, timeout: 0 }

  /** Whether a request may be sent: healthy, or in a passive trial after the cool-down. */
  available(): boolean {
    return this.healthy || this.trialOpen
  }

  /** Applies one proxied attempt's outcome; returns true when the health changed. */
  passive(policy: HealthPolicy, outcome: Outcome, status?: number): boolean {
    if (!policy.passiveOn) return false
    const verdict =
      status === undefined || outcome === 'tcp_failure' || outcome === 'timeout'
        ? outcome
        : classifyStatus(policy.passive, status)
    const c = this.passiveCount
    if (verdict === 'neutral') return false
    if (verdict === 'success') {
      if (this.healthy) {
        c.http_failure = c.tcp_failure = c.timeout = 0
        return false
      }
      // Stragglers that finish right after the target was taken out do not count: only
      // requests sent as trials after the cool-down do.
      if (!this.trialOpen) return false
      if (++c.success < Math.max(1, policy.passive.successes)) return false
      this.setHealthy()
      return true
    }
    const limit = policy.passive[verdict]
    if (limit === 0) return false
    if (this.healthy) {
      c.success = 0
      if (++c[verdict] < limit) return false
      this.setUnhealthy('passive', policy.cooldownMs)
      return true
    }
    // A failed trial closes the door again for another cool-down.
    if (this.trialOpen) {
      c.success = 0
      this.closeTrialsFor(policy.cooldownMs)
    }
    return false
  }

  /** Applies one active probe's verdict; returns true when the health changed. */
  probe(policy: HealthPolicy, verdict: Verdict): boolean {
    const c = this.activeCount
    if (verdict === 'neutral') return false
    if (verdict === 'success') {
      c.http_failure = c.tcp_failure = c.timeout = 0
      if (this.healthy || policy.active.successes === 0) return false
      if (++c.success < policy.active.successes) return false
      this.setHealthy()
      return true
    }
    c.success = 0
    const limit = policy.active[verdict]
    if (limit === 0 || !this.healthy) return false
    if (++c[verdict] < limit) return false
    this.setUnhealthy('active', Number.POSITIVE_INFINITY)
    return true
  }

  setHealthy(): void {
    this.healthy = true
    this.cause = ''
    this.closeTrialsFor(Number.POSITIVE_INFINITY)
    this.resetCounters()
  }

  /** Takes the target out; a passive failure opens it for trials after `cooldownMs`. */
  setUnhealthy(cause: HealthCause, cooldownMs: number): void {
    this.healthy = false
    this.cause = cause
    this.closeTrialsFor(cooldownMs)
    this.resetCounters()
  }

  private closeTrialsFor(ms: number): void {
    clearTimeout(this.trialTimer)
    this.trialTimer = undefined
    this.trialOpen = false
    // Beyond setTimeout's range (about 24.8 days) Node would fire at once: treat it as never.
    if (!(ms <= 2_147_483_647)) return
    if (ms <= 0) {
      this.trialOpen = true
      return
    }
    this.trialTimer = setTimeout(() => {
      this.trialTimer = undefined
      this.trialOpen = true
    }, ms)
    this.trialTimer.unref()
  }

  private resetCounters(): void {
    for (const c of [this.passiveCount, this.activeCount]) {
      c.success = c.http_failure = c.tcp_failure = c.timeout = 0
    }
  }
}

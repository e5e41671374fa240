import type { PluginServices } from '../../core/services.js'
import { slot } from '../../core/slot.js'
import type { Telemetry } from '../../core/telemetry.js'
import { storeSeries } from '../kit/redis/series.js'

/**
 * Where the rate-limiting plugin keeps its node-wide counters:
 * `services.shared(RATE_LIMITING_STATS, newRateLimitingStats)` returns one object that every
 * instance increments in place (monotonic since the node started, kept across reloads); the
 * plugin's {@link telemetry} hook reads the same object at scrape time.
 */
export const RATE_LIMITING_STATS = 'rate-limiting:stats'

export interface RateLimitingStats {
  /** requests the limiter let through with room left */
  allowed: number
  /** requests refused (429 or the configured error_code) */
  rejected: number
  /** requests let through without a verdict because the store failed (fault_tolerant) */
  failedOpen: number
  /** requests answered 500 because the store failed and fault_tolerant is off */
  failedClosed: number
  /** store calls that missed their deadline */
  timeouts: number
  /** store calls that failed (error reply, connection down, breaker open) */
  errors: number
}

export function newRateLimitingStats(): RateLimitingStats {
  return { allowed: 0, rejected: 0, failedOpen: 0, failedClosed: 0, timeouts: 0, errors: 0 }
}

/** The request's verdict for logs and metrics: 'allowed', 'rejected', '' when no limit decided. */
export const RATE_LIMIT = slot<'allowed' | 'rejected' | ''>('rate-limiting.verdict', '')

/**
 * The plugin's series: the verdict per request (`portico_rate_limit_requests_total{outcome}` and
 * the access log's `rate_limit`), and what the store did (`…_store_failures_total{reason}`,
 * `…_store_unavailable_total{action}`).
 */
export function telemetry(t: Telemetry, services: PluginServices): void {
  const s = services.shared<RateLimitingStats>(RATE_LIMITING_STATS, newRateLimitingStats)
  t.outcome(RATE_LIMIT, {
    metric: 'portico_rate_limit_requests_total',
    help: 'Rate-limit decisions',
    label: 'outcome',
    logField: 'rate_limit',
  })
  storeSeries(t, 'portico_rate_limit', 'Rate-limit store', s)
}

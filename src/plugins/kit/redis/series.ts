import { byLabel, type Telemetry } from '../../../core/telemetry.js'

/** What a plugin counts of its Redis store, node-wide (fields of its stats object). */
export interface StoreCounters {
  /** store calls that failed (error reply, connection down, breaker open) */
  errors: number
  /** store calls that missed their deadline */
  timeouts: number
  /** requests let through without the store (fault_tolerant) */
  failedOpen: number
  /** requests answered 500 because the store failed */
  failedClosed: number
}

/**
 * Registers a Redis-backed plugin's store series: `<prefix>_store_failures_total{reason}` and
 * `<prefix>_store_unavailable_total{action}`, read from `s` at scrape time.
 *
 * @example
 *   storeSeries(t, 'portico_rate_limit', 'Rate-limit store', stats)
 */
export function storeSeries(t: Telemetry, prefix: string, what: string, s: StoreCounters): void {
  t.series(
    `${prefix}_store_failures_total`,
    `${what} calls that failed (error) or missed their deadline (timeout)`,
    'counter',
    () => byLabel('reason', { error: s.errors, timeout: s.timeouts }),
  )
  t.series(
    `${prefix}_store_unavailable_total`,
    `Requests decided without the ${what} (unavailable): let through (fault_tolerant) or refused with 500`,
    'counter',
    () => byLabel('action', { allowed: s.failedOpen, refused: s.failedClosed }),
  )
}

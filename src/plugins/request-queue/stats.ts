import type { PluginServices } from '../../core/services.js'
import { slot } from '../../core/slot.js'
import type { Telemetry } from '../../core/telemetry.js'
import { storeSeries } from '../kit/redis/series.js'

/** Node-wide counters of the request-queue plugin: `services.shared(REQUEST_QUEUE_STATS, newRequestQueueStats)`. */
export const REQUEST_QUEUE_STATS = 'request-queue:stats'

export interface RequestQueueStats {
  /** requests that got a slot at once */
  admitted: number
  /** requests that got a slot after waiting in the queue */
  dequeued: number
  /** requests refused because the queue was full */
  rejectedFull: number
  /** requests refused after waiting max_wait_ms */
  rejectedTimeout: number
  /** clients that went away while waiting */
  abandoned: number
  /** requests let through without a slot because Redis failed (fault_tolerant) */
  failedOpen: number
  /** requests answered 500 because Redis failed and fault_tolerant is off */
  failedClosed: number
  /** Redis calls that missed their deadline */
  timeouts: number
  /** Redis calls that failed (error reply, connection down, breaker open) */
  errors: number
  /** gauges: requests holding a slot / waiting, on this node */
  inFlight: number
  waiting: number
}

export function newRequestQueueStats(): RequestQueueStats {
  return {
    admitted: 0,
    dequeued: 0,
    rejectedFull: 0,
    rejectedTimeout: 0,
    abandoned: 0,
    failedOpen: 0,
    failedClosed: 0,
    timeouts: 0,
    errors: 0,
    inFlight: 0,
    waiting: 0,
  }
}

export type Outcome = 'immediate' | 'waited' | 'rejected' | 'timeout' | 'abandoned' | 'bypassed'

/**
 * The request's queue outcome for logs and metrics: 'immediate' (a slot at once), 'waited' (a
 * slot after queueing), 'rejected' (queue full), 'timeout' (no slot within the wait),
 * 'abandoned' (the client left while waiting), 'bypassed' (Redis failed, let through); '' when
 * not queued.
 */
export const QUEUED = slot<Outcome | ''>('request-queue.outcome', '')

/**
 * The plugin's series: the outcome per request (`portico_queue_requests_total{outcome}` and the
 * access log's `queued`), the node's slots held and waiters, and what Redis did.
 */
export function telemetry(t: Telemetry, services: PluginServices): void {
  const s = services.shared<RequestQueueStats>(REQUEST_QUEUE_STATS, newRequestQueueStats)
  t.outcome(QUEUED, {
    metric: 'portico_queue_requests_total',
    help: 'Request-queue outcomes',
    label: 'outcome',
    logField: 'queued',
  })
  t.series('portico_queue_in_flight', 'Requests holding a queue slot on this node', 'gauge', () => [
    { labels: {}, value: s.inFlight },
  ])
  t.series('portico_queue_waiting', 'Requests waiting for a queue slot on this node', 'gauge', () => [
    { labels: {}, value: s.waiting },
  ])
  storeSeries(t, 'portico_queue', 'Request-queue Redis', s)
}

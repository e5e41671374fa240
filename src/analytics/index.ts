import type { RedisConnection } from '../core/services.js'
import { Analytics, type AnalyticsOptions, Keys } from './analytics.js'
import { MemoryBackend } from './backend.js'
import { SharedRedisBackend } from './redis-backend.js'

export { Analytics, type AnalyticsSettings, DEFAULT_ANALYTICS } from './analytics.js'
export { analyticsOffRoutes, analyticsRoutes } from './routes.js'

export type CreateAnalytics = Omit<AnalyticsOptions, 'backend' | 'now'> & {
  /** the node's Redis when one is configured: numbers become cluster-wide */
  redis: RedisConnection | null
}

/**
 * Analytics on Redis when the node has one, in memory otherwise.
 *
 * @example
 *   const analytics = createAnalytics({ settings: DEFAULT_ANALYTICS, redis: null, keyPrefix: 'portico:', … })
 */
export function createAnalytics(o: CreateAnalytics): Analytics {
  const { redis, ...options } = o
  const backend =
    redis === null ? new MemoryBackend() : new SharedRedisBackend(redis, new Keys(o.keyPrefix).nodes)
  return new Analytics({ ...options, backend })
}

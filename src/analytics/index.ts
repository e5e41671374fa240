import type { Logger } from '../core/logger.js'
import type { RedisConnection } from '../core/services.js'
import { Analytics, type AnalyticsSettings } from './analytics.js'
import { MemoryBackend } from './backend.js'
import { RedisBackend } from './redis-backend.js'

export { Analytics, type AnalyticsSettings, DEFAULT_ANALYTICS } from './analytics.js'
export { analyticsOffRoutes, analyticsRoutes } from './routes.js'

export interface CreateAnalytics {
  settings: AnalyticsSettings
  /** the node's Redis when one is configured: numbers become cluster-wide */
  redis: RedisConnection | null
  keyPrefix: string
  nodeId: string
  hostname: string
  config(): { generation: number; hash: string }
  isBuiltin(path: string): boolean
  log: Logger
}

/**
 * Analytics on Redis when the node has one, in memory otherwise.
 *
 * @example
 *   const analytics = createAnalytics({ settings: DEFAULT_ANALYTICS, redis: null, keyPrefix: 'portico:', … })
 */
export function createAnalytics(o: CreateAnalytics): Analytics {
  // one hash tag for every analytics key: one Cluster slot, so multi-key PFCOUNT works there
  const prefix = `${o.keyPrefix}{analytics}:`
  const backend = o.redis === null ? new MemoryBackend() : new RedisBackend(o.redis, `${prefix}nodes`)
  return new Analytics({
    backend,
    settings: o.settings,
    keyPrefix: prefix,
    nodeId: o.nodeId,
    hostname: o.hostname,
    config: o.config,
    isBuiltin: o.isBuiltin,
    log: o.log,
  })
}

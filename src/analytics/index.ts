import type { NodePeers } from '../core/peers.js'
import type { RedisConnection } from '../core/services.js'
import { Analytics, type AnalyticsOptions, Keys } from './analytics.js'
import { type Backend, MemoryBackend } from './backend.js'
import { PeerBackend } from './peer-backend.js'
import { SharedRedisBackend } from './redis-backend.js'

export { Analytics, type AnalyticsSettings, DEFAULT_ANALYTICS } from './analytics.js'
export { analyticsPrimary } from './peer-backend.js'
export { analyticsOffRoutes, analyticsRoutes } from './routes.js'

export type CreateAnalytics = Omit<AnalyticsOptions, 'backend' | 'now'> & {
  /** the node's Redis when one is configured: numbers become cluster-wide */
  redis: RedisConnection | null
  /** the node's primary when this process is one of its workers: without Redis it holds the numbers */
  peers: NodePeers | null
}

/**
 * Analytics on Redis when the node has one (every worker flushes there), in memory otherwise:
 * this process's, or on a node with workers the primary's (peer-backend.ts).
 *
 * @example
 *   const analytics = createAnalytics({ settings: DEFAULT_ANALYTICS, redis: null, keyPrefix: 'portico:', … })
 */
export function createAnalytics(o: CreateAnalytics): Analytics {
  const { redis, peers, ...options } = o
  if (redis === null && peers !== null) {
    const backend = new PeerBackend(peers)
    const analytics = new Analytics({ ...options, backend })
    backend.attach(() => analytics.flush())
    return analytics
  }
  const backend: Backend =
    redis === null ? new MemoryBackend() : new SharedRedisBackend(redis, new Keys(o.keyPrefix).nodes)
  return new Analytics({ ...options, backend })
}

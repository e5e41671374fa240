import type { Logger } from '../../../core/logger.js'
import type { PluginServices } from '../../../core/services.js'
import { RevocationSync } from './redis-peer.js'
import { Revocations } from './registry.js'
import { WorkerRevocations } from './worker-peer.js'

/**
 * The node's one revocation set, shared by every jwt instance and the admin endpoints and kept
 * across reloads; shared with the other nodes through Redis when the node has one
 * (`PORTICO_REDIS_URL`), node-local otherwise; on a node with workers, applied by every worker
 * before a change returns (worker-peer.ts).
 *
 * @example
 *   nodeRevocations(env.services, env.log).has(id)
 */
export function nodeRevocations(services: PluginServices, log?: Logger): Revocations {
  const revocations = services.shared('jwt:revocations', () => {
    const r = new Revocations()
    let conn: ReturnType<PluginServices['redis']> | null = null
    try {
      conn = services.redis()
    } catch {
      // no Redis on this node: revocations stay node-local
    }
    if (conn !== null) r.attach(new RevocationSync(conn, services.keyPrefix, r, log))
    // several workers: every one applies a change before the Admin API answers; without
    // Redis the node's set lives in the primary
    if (services.peers !== undefined) r.attachRelay(new WorkerRevocations(services.peers, r, conn === null))
    return r
  })
  revocations.log ??= log
  return revocations
}

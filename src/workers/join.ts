import type { WorkerSync } from '../control-plane/control-plane.js'
import { WorkerRegistry } from '../control-plane/registry/workers.js'
import { WorkerConfigStore } from '../control-plane/store/workers.js'
import type { Logger } from '../core/logger.js'
import type { NodePeers } from '../core/peers.js'
import type { HealthShare, SharedHealth } from '../data-plane/upstream/health-registry.js'
import { HEALTH_TOPICS, NODE_TOPICS, SYNC_TOPICS } from './topics.js'

/** How long a worker waits for the primary to confirm every worker applied a write (ms). */
const SETTLE_WAIT_MS = 6000

/**
 * The control plane's side of a worker: the primary's store in memory mode (Redis is already
 * shared), each adopted version reported, and writes that wait for every worker.
 */
export function workerSync(peers: NodePeers, memory: boolean, validator: string): WorkerSync {
  return {
    store: memory ? new WorkerConfigStore(peers, validator) : undefined,
    registry: memory ? new WorkerRegistry(peers) : undefined,
    adopted: (version, hash) => peers.tell(SYNC_TOPICS.adopted, { version, hash }),
    settled: (version) =>
      peers
        .ask<string[]>(SYNC_TOPICS.settle, { version }, SETTLE_WAIT_MS)
        .catch((err: unknown) => [`? (the primary did not answer: ${(err as Error).message})`]),
  }
}

/** What a worker's node gives the primary. */
export interface WorkerHooks {
  /** this worker's own exposition text, null when metrics are off */
  render: (() => Promise<string>) | null
  /** SIGHUP / --watch, sent by the primary */
  reload(): Promise<unknown>
  log: Logger
}

/**
 * Answers the primary's questions (this worker's metrics, a reload) and gives the node's
 * `/metrics` (merged by the primary) and `/healthz` workers list.
 */
export function joinNode(peers: NodePeers, hooks: WorkerHooks) {
  const { render, log } = hooks
  if (render !== null) peers.on(NODE_TOPICS.render, () => render())
  peers.on(NODE_TOPICS.reload, () => {
    hooks.reload().catch((err: unknown) => log.error({ err }, 'reload failed'))
  })
  return {
    /** the node's merged exposition */
    metrics: () => peers.ask<string>(NODE_TOPICS.collect, null, 5000),
    workers: () => peers.ask<unknown[]>(NODE_TOPICS.describe, null, 2000),
    runtime: (generation: number, hash: string) => peers.tell(SYNC_TOPICS.runtime, { generation, hash }),
    ready: (listeners: object) => peers.tell(NODE_TOPICS.ready, listeners),
    /** before exiting: the last exposition, so its counters stay in the node's sums */
    final: async () => {
      if (render === null) return
      await peers.ask(NODE_TOPICS.final, await render(), 1000).catch(() => {})
    },
    /**
     * Last before exiting: waits until the primary has what this worker told it on closing
     * (quota blocks given back), which exiting at once could lose.
     */
    bye: () =>
      peers.ask(NODE_TOPICS.bye, null, 1000).then(
        () => {},
        () => {},
      ),
  }
}

/**
 * Upstream health for a worker: transitions go to every other worker through the primary (a
 * message per transition, never per request), the node's current ones are read at start, and
 * the active checks run in slot 1 only.
 */
export function healthShare(peers: NodePeers): HealthShare {
  return {
    checks: peers.workerId === 1,
    publish: (change) => peers.tell(HEALTH_TOPICS.change, change),
    subscribe(apply) {
      peers.on(HEALTH_TOPICS.change, (c) => apply(c as SharedHealth))
      peers.ask<SharedHealth[]>(HEALTH_TOPICS.snapshot, null).then(
        (list) => {
          for (const c of list) apply(c)
        },
        () => {},
      )
    },
  }
}

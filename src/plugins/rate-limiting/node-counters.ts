import type { RequestContext } from '../../core/context.js'
import type { NodePeers } from '../../core/peers.js'
import type { AccessResult, PluginEnv, PluginInstance } from '../../core/plugin.js'
import type { Algorithm, Limit } from './algorithms.js'
import { type BlockSizing, HOLD_MS } from './blocks.js'
import { LeaseLimiter, leaseInstance, type QuotaSource } from './lease.js'
import {
  GIVE_BACK,
  type GiveBackTell,
  TAKE,
  type TableRef,
  type TakeAnswer,
  type TakeAsk,
} from './node-primary.js'
import type { Config } from './schema.js'
import type { RateLimitingStats } from './stats.js'

/**
 * A worker's blocks: sized for what a block may last ({@link HOLD_MS}) at the key's rate, at
 * most 64. A question costs less than a Redis call and a worker that dies takes little with it
 * (a node's workers share the traffic), so blocks may be bigger than a node's Redis leases;
 * near the limit `grantSize` shrinks them the same way, and unused units come back.
 */
export const WORKER_BLOCKS: BlockSizing = { horizonMs: HOLD_MS, maxBlock: 64 }

/**
 * A worker's source of quota: the node's counters in the primary (node-primary.ts), one IPC
 * question per block, never per request.
 */
export class PeerQuota implements QuotaSource {
  readonly sizing = WORKER_BLOCKS
  /**
   * No deadline per request: a question is answered by the primary (its handler is synchronous)
   * or fails as a whole (the primary gone, or the ask's own timeout), failing every request
   * waiting on it; so there is no late answer to serve. A return needs no holder record either:
   * the primary is the only copy of the counts and the channel keeps order, so a return arrives
   * once, after its grant and before the worker's next question of the key.
   */
  readonly deadlineMs = Number.POSITIVE_INFINITY
  constructor(
    readonly peers: NodePeers,
    readonly table: TableRef,
  ) {}

  /** the primary outlives its workers: a worker whose primary is gone is leaving anyway */
  available(): boolean {
    return true
  }

  lease(
    key: string,
    need: number,
    want: number,
    done: (err: Error | null, res: number[] | null, holdMs: number) => void,
  ): void {
    const ask: TakeAsk = { ...this.table, key, need, want }
    this.peers.ask<TakeAnswer>(TAKE, ask).then(
      (a) => done(null, a.res, a.hold),
      (err: unknown) => done(err as Error, null, 0),
    )
  }

  giveBack(key: string, units: number, t0: number): void {
    const tell: GiveBackTell = { ...this.table, key, units, t0 }
    this.peers.tell(GIVE_BACK, tell)
  }
}

/**
 * What one instance compiled from its config (plugin.ts), shared by the local policy, the redis
 * policy and the node-wide local policy on a node with workers.
 */
export interface CompiledLimit {
  config: Config
  env: PluginEnv
  algo: Algorithm
  limits: Limit[]
  identify: (ctx: RequestContext) => string
  composed: boolean
  /** headers, composition and the reply for a verdict from either store */
  decide: (ctx: RequestContext, v: ArrayLike<number>, undo: (() => void) | null) => AccessResult
  /** the store failed: Kong's fault_tolerant (through, no headers) or 500 */
  storeFailed: () => AccessResult
  stats: RateLimitingStats
}

/**
 * The local policy's instance on a worker: the same verdicts and headers as a single process,
 * counted for the node. Every algorithm admits from blocks of quota this worker took from the
 * primary (the redis policy's `LeaseLimiter` with the primary as its source): synchronous while
 * the worker holds units or a refusal for the key, one question per block otherwise. The
 * primary's table (`layout`) outlives reloads; the blocks go back when the instance closes.
 */
export function nodeLimitInstance(peers: NodePeers, c: CompiledLimit, layout: string): PluginInstance {
  const { config, env, algo, limits, identify, composed, decide, storeFailed, stats } = c
  const table = { table: `${env.id}:${layout}`, algo, limits, maxKeys: config.local_max_keys }
  const limiter = new LeaseLimiter(new PeerQuota(peers, table), limits.length, stats, config.local_max_keys)
  return leaseInstance(limiter, { key: identify, composed, decide, storeFailed })
}

import type { NodePeers, PrimaryHub } from '../../../core/peers.js'
import type { RevocationOp, RevocationPeer, Revocations } from './registry.js'

const TOPICS = {
  /** worker → primary: a change made on this worker */
  change: 'jwt.revocation',
  /** primary → worker: apply a change made on another worker */
  apply: 'jwt.revocation.apply',
  /** worker → primary: the node's set, at start */
  snapshot: 'jwt.revocation.snapshot',
} as const

/**
 * Revocations on a node with workers and no Redis: the node's set is kept by the primary, a
 * change made on one worker is applied by every other worker before the Admin API answers,
 * and a worker that starts reads the set first. A message per change, never per request (the
 * request path reads the worker's own Map).
 */
export class WorkerRevocations implements RevocationPeer {
  readonly #off: () => void
  readonly #ready: Promise<void>

  constructor(
    readonly peers: NodePeers,
    readonly set: Revocations,
  ) {
    this.#off = peers.on(TOPICS.apply, (op) => set.apply(op as RevocationOp))
    this.#ready = peers.ask<Array<[string, number]>>(TOPICS.snapshot, null).then(
      (list) => set.replace(list),
      () => {},
    )
  }

  /** resolves true once every other worker applied the change */
  async publish(change: RevocationOp): Promise<boolean> {
    return this.peers.ask<boolean>(TOPICS.change, change).catch(() => false)
  }

  ready(): Promise<void> {
    return this.#ready
  }

  close(): void {
    this.#off()
  }
}

/** The primary's half: the node's set, relayed to every worker. */
export function revocationsPrimary(hub: PrimaryHub): void {
  const entries = new Map<string, number>()
  hub.handle(TOPICS.snapshot, () => {
    const now = Date.now() / 1000
    for (const [id, exp] of entries) if (exp <= now) entries.delete(id)
    return [...entries]
  })
  hub.handle(TOPICS.change, async (body, from) => {
    const op = body as RevocationOp
    if (op.op === 'd') entries.delete(op.id)
    else entries.set(op.id, op.exp)
    const { missing } = await hub.askAll(TOPICS.apply, op, from)
    return missing.length === 0
  })
}

import type { NodePeers, PrimaryHub } from '../../../core/peers.js'
import type { RevocationOp, RevocationRelay, Revocations } from './registry.js'

const TOPICS = {
  /** worker → primary: a change made on this worker; answered with the workers that missed it */
  change: 'jwt.revocation',
  /** primary → worker: apply a change made on another worker */
  apply: 'jwt.revocation.apply',
  /** worker → primary: the node's set, at start (a node without Redis) */
  snapshot: 'jwt.revocation.snapshot',
} as const

/** How long the primary waits for every other worker to apply a change (ms). */
const APPLY_WAIT_MS = 2000
/** How long a worker waits for the primary's answer: past the primary's own wait. */
const RELAY_WAIT_MS = APPLY_WAIT_MS + 1000

/**
 * Revocations between the workers of one node: a change made on one worker is applied by every
 * other worker before the Admin API answers, the primary relaying it (with Redis too: the
 * Redis announcement reaches the other workers as well, but nothing would tell the Admin API
 * when). Without Redis the node's set is kept by the primary and a worker that starts reads
 * it first; with Redis it catches up from Redis. A message per change, never per request (the
 * request path reads the worker's own Map).
 */
export class WorkerRevocations implements RevocationRelay {
  readonly #off: () => void
  readonly #ready: Promise<void>

  constructor(
    readonly peers: NodePeers,
    readonly set: Revocations,
    /** read the primary's set at start (no Redis: the primary's set is the node's) */
    snapshot: boolean,
  ) {
    this.#off = peers.on(TOPICS.apply, (op) => set.apply(op as RevocationOp))
    this.#ready = snapshot
      ? peers.ask<Array<[string, number]>>(TOPICS.snapshot, null).then(
          (list) => set.replace(list),
          () => {},
        )
      : Promise.resolve()
  }

  /** resolves with the workers (slots) that did not apply the change in time */
  relay(change: RevocationOp): Promise<string[]> {
    return this.peers.ask<number[]>(TOPICS.change, change, RELAY_WAIT_MS).then(
      (missing) => missing.map(String),
      (err: unknown) => [`? (the primary did not answer: ${(err as Error).message})`],
    )
  }

  ready(): Promise<void> {
    return this.#ready
  }

  close(): void {
    this.#off()
  }
}

/** The primary's half: the node's set (for workers that start), relayed to every worker. */
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
    const { missing } = await hub.askAll(TOPICS.apply, op, from, APPLY_WAIT_MS)
    return missing.sort((a, b) => a - b)
  })
}

import { hash } from 'node:crypto'
import type { Logger } from '../../../core/logger.js'

/** How long a revocation lasts when neither the caller nor the token says (s). */
export const DEFAULT_RETENTION_S = 24 * 3600
/** Entries kept at most; beyond it the soonest-expiring tenth is dropped. */
export const MAX_ENTRIES = 500_000

/** One change to the revocation set: revoke (`r`) until `exp`, or lift (`d`). */
export interface RevocationOp {
  readonly op: 'r' | 'd'
  readonly id: string
  /** seconds since the epoch (0 for `d`) */
  readonly exp: number
}

/** Where revocations are shared between nodes (Redis); absent on a node without Redis. */
export interface RevocationPeer {
  /** writes the change for every node; resolves true once Redis has it */
  publish(change: RevocationOp): Promise<boolean>
  /** resolves once this node is subscribed and has caught up */
  ready(): Promise<void>
  close(): void
}

/**
 * The other workers of a node with workers: a change made on one worker is applied by every
 * other before the Admin API answers, with or without Redis (the primary relays it).
 */
export interface RevocationRelay {
  /** applies the change on every other worker; resolves with those that did not in time */
  relay(change: RevocationOp): Promise<string[]>
  /** resolves once this worker has the node's set */
  ready(): Promise<void>
  close(): void
}

/** What a change reached: Redis (or, without Redis, every worker), and the workers it missed. */
export interface ChangeResult {
  propagated: boolean
  /** the node's workers that did not apply it in time (empty on a node without workers) */
  missing: string[]
}

/**
 * The id a token is revoked under: its `jti`, or the SHA-256 (hex) of the whole token when it
 * has none.
 *
 * @example
 *   revocationId({ jti: 'a1' }, token) // → 'a1'
 */
export function revocationId(claims: Record<string, unknown>, token: string): string {
  const jti = claims.jti
  return typeof jti === 'string' && jti !== '' ? jti : hash('sha256', token, 'hex')
}

/**
 * The node's revoked tokens: a local Map consulted on every request (no Redis round trip),
 * entries dropped once their token has expired anyway. Changes made here are published through
 * the {@link RevocationPeer} (Redis) and changes from other nodes are applied through
 * {@link apply} / {@link replace}; without a peer, revocation is node-local.
 *
 * @example
 *   const revoked = new Revocations()
 *   await revoked.revoke('a1', exp)
 *   revoked.has('a1') // → true
 */
export class Revocations {
  readonly #entries = new Map<string, number>()
  /** local changes Redis has not confirmed yet: re-applied over a snapshot, retried */
  readonly #unsynced = new Map<string, RevocationOp>()
  #peer: RevocationPeer | null = null
  #relay: RevocationRelay | null = null
  #sweeper: NodeJS.Timeout | null = null
  log: Logger | undefined

  constructor(readonly maxEntries = MAX_ENTRIES) {}

  get size(): number {
    return this.#entries.size
  }

  get peer(): RevocationPeer | null {
    return this.#peer
  }

  attach(peer: RevocationPeer): void {
    this.#peer = peer
  }

  get relay(): RevocationRelay | null {
    return this.#relay
  }

  /** The node's other workers (a node with workers). */
  attachRelay(relay: RevocationRelay): void {
    this.#relay = relay
  }

  /** The hot path: one Map lookup, and none at all while nothing is revoked. */
  has(id: string): boolean {
    return this.#entries.size !== 0 && this.#entries.has(id)
  }

  /** exp (s) of a live revocation, or undefined */
  get(id: string): number | undefined {
    const exp = this.#entries.get(id)
    return exp !== undefined && exp > Date.now() / 1000 ? exp : undefined
  }

  /** Revokes locally at once, then publishes; resolves true when the other nodes will see it. */
  revoke(id: string, exp: number): Promise<boolean> {
    return this.change({ op: 'r', id, exp }).then((r) => r.propagated)
  }

  unrevoke(id: string): Promise<boolean> {
    return this.change({ op: 'd', id, exp: 0 }).then((r) => r.propagated)
  }

  /**
   * Applies a change here at once, then shares it: with the other nodes through Redis, and
   * with this node's other workers through the primary (each applies it before this resolves,
   * or is named in `missing`). Without Redis, `propagated` means every worker has it.
   */
  async change(change: RevocationOp): Promise<ChangeResult> {
    this.apply(change)
    const relayed = this.#relay === null ? Promise.resolve([]) : this.#relay.relay(change)
    let propagated = false
    if (this.#peer !== null) {
      this.#unsynced.set(change.id, change)
      propagated = await this.republish(change)
    }
    const missing = await relayed
    if (this.#peer === null) propagated = this.#relay !== null && missing.length === 0
    return { propagated, missing }
  }

  /** Publishes a local change (again); it stays pending until Redis has it. */
  republish(change: RevocationOp): Promise<boolean> {
    if (this.#peer === null) return Promise.resolve(false)
    return this.#peer.publish(change).then((ok) => {
      if (ok && this.#unsynced.get(change.id) === change) this.#unsynced.delete(change.id)
      return ok
    })
  }

  /** Changes Redis has not acknowledged yet, oldest first (the peer retries them). */
  pending(): RevocationOp[] {
    return [...this.#unsynced.values()]
  }

  /** Applies one change (local or from another node). */
  apply(change: RevocationOp): void {
    if (change.op === 'd') {
      this.#entries.delete(change.id)
      return
    }
    if (change.exp <= Date.now() / 1000) return
    this.#entries.set(change.id, change.exp)
    if (this.#entries.size > this.maxEntries) this.#evict()
    this.#sweeper ??= setInterval(() => this.sweep(), 30_000).unref()
  }

  /** Replaces the set with a full snapshot from Redis, keeping local changes not yet there. */
  replace(snapshot: Iterable<[string, number]>): void {
    this.#entries.clear()
    for (const [id, exp] of snapshot) this.apply({ op: 'r', id, exp })
    for (const change of this.#unsynced.values()) this.apply(change)
  }

  /**
   * Adds a snapshot from a Redis that lost changes this node had applied (a failover to a
   * replica that had not received them): nothing is dropped, and this node's live revocations
   * the snapshot lacks become pending again, to be written back. Returns those.
   */
  merge(snapshot: Iterable<[string, number]>): RevocationOp[] {
    const inRedis = new Map(snapshot)
    for (const [id, exp] of inRedis) this.apply({ op: 'r', id, exp })
    const lost: RevocationOp[] = []
    const now = Date.now() / 1000
    for (const [id, exp] of this.#entries) {
      if (inRedis.has(id) || exp <= now) continue
      const change: RevocationOp = { op: 'r', id, exp }
      if (!this.#unsynced.has(id)) this.#unsynced.set(id, change)
      lost.push(change)
    }
    return lost
  }

  /** Drops revocations of tokens that have expired by now. */
  sweep(now = Date.now() / 1000): void {
    for (const [id, exp] of this.#entries) if (exp <= now) this.#entries.delete(id)
  }

  #evict(): void {
    this.sweep()
    if (this.#entries.size <= this.maxEntries) return
    const byExp = [...this.#entries].sort((a, b) => a[1] - b[1])
    const drop = Math.ceil(this.maxEntries / 10)
    for (let i = 0; i < drop; i++) this.#entries.delete(byExp[i]![0])
    this.log?.warn(
      { dropped: drop, max: this.maxEntries },
      'jwt: revocation list full, dropped the soonest-expiring',
    )
  }

  close(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper)
    this.#sweeper = null
    this.#peer?.close()
    this.#peer = null
    this.#relay?.close()
    this.#relay = null
  }
}

import type { NodePeers, PrimaryHub } from '../../core/peers.js'
import type { SlotStore } from './redis-slots.js'

const TOPICS = {
  acquire: 'request-queue.acquire',
  release: 'request-queue.release',
  renew: 'request-queue.renew',
  /** primary → workers: a full scope had a slot freed (their waiters ask again) */
  released: 'request-queue.released',
} as const

/** Answers later than this count as failed (the queue applies fault_tolerant), as with Redis. */
const ASK_MS = 2000

/**
 * The local policy on a node with workers: the node's slots are counted in its primary, with
 * the redis policy's lease semantics (a lease expires unless renewed, so a worker that dies
 * gives its slots back), and the queue runs its redis-policy steps against it: waiters stay in
 * each worker's FIFO, a freed slot of a full scope is announced to every worker.
 */
export class NodeSlots implements SlotStore {
  #off: (() => void) | null = null

  constructor(readonly peers: NodePeers) {}

  listen(listener: (key: string) => void): void {
    this.#off ??= this.peers.on(TOPICS.released, (key) => listener(key as string))
  }

  available(_now: number): boolean {
    return true
  }

  acquire(
    key: string,
    ids: readonly string[],
    limit: number,
    leaseMs: number,
    reply: (granted: number | null) => void,
  ): void {
    this.peers
      .ask<number>(TOPICS.acquire, { key, ids, limit, leaseMs }, ASK_MS)
      .then(reply, () => reply(null))
  }

  release(key: string, ids: readonly string[], limit: number): void {
    if (ids.length > 0) this.peers.tell(TOPICS.release, { key, ids, limit })
  }

  renew(key: string, ids: readonly string[], leaseMs: number): void {
    if (ids.length > 0) this.peers.tell(TOPICS.renew, { key, ids, leaseMs })
  }

  close(): void {
    this.#off?.()
    this.#off = null
  }
}

/** The primary's half: per scope, lease id → when it expires (lua.ts's sorted set, in memory). */
export function requestQueuePrimary(hub: PrimaryHub): void {
  const sets = new Map<string, Map<string, number>>()
  const live = (key: string, now: number): Map<string, number> => {
    let set = sets.get(key)
    if (set === undefined) sets.set(key, (set = new Map()))
    for (const [id, exp] of set) if (exp <= now) set.delete(id)
    return set
  }
  hub.handle(TOPICS.acquire, (body) => {
    const { key, ids, limit, leaseMs } = body as {
      key: string
      ids: string[]
      limit: number
      leaseMs: number
    }
    const now = Date.now()
    const set = live(key, now)
    const n = Math.max(0, Math.min(limit - set.size, ids.length))
    for (let i = 0; i < n; i++) set.set(ids[i]!, now + leaseMs)
    return n
  })
  hub.handle(TOPICS.release, (body) => {
    const { key, ids, limit } = body as { key: string; ids: string[]; limit: number }
    const set = sets.get(key)
    if (set === undefined) return
    const before = set.size
    let removed = 0
    for (const id of ids) if (set.delete(id)) removed++
    if (removed > 0 && before >= limit) hub.broadcast(TOPICS.released, key)
    if (set.size === 0) sets.delete(key)
  })
  hub.handle(TOPICS.renew, (body) => {
    const { key, ids, leaseMs } = body as { key: string; ids: string[]; leaseMs: number }
    const now = Date.now()
    const set = live(key, now)
    for (const id of ids) set.set(id, now + leaseMs)
  })
}

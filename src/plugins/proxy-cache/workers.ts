import type { NodePeers, PrimaryHub } from '../../core/peers.js'

const TOPICS = {
  /** worker → primary: purge on the other workers; answers whether any had the key */
  purge: 'proxy-cache.purge',
  /** primary → worker: purge here */
  apply: 'proxy-cache.purge.apply',
} as const

/** A purge: one key or '*', in every instance or in one (by plugin id). */
export interface PurgeNotice {
  key: string
  instance?: string | undefined
}

/**
 * A purge on a node with workers reaches every worker's memory tier before the Admin API
 * answers (the Redis tier and other nodes are reached through Redis as before).
 */
export function purgeEverywhere(peers: NodePeers, notice: PurgeNotice): Promise<boolean> {
  return peers.ask<boolean>(TOPICS.purge, notice).catch(() => false)
}

/** This worker's part: applies purges made on the other workers. */
export function hearPurges(peers: NodePeers, purgeHere: (n: PurgeNotice) => boolean): () => void {
  return peers.on(TOPICS.apply, (n) => purgeHere(n as PurgeNotice))
}

/** The primary's part: relays a purge to every other worker and tells whether any had the key. */
export function proxyCachePrimary(hub: PrimaryHub): void {
  fillsPrimary(hub)
  hub.handle(TOPICS.purge, async (body, from) => {
    const { answers } = await hub.askAll(TOPICS.apply, body, from)
    return answers.some((a) => a === true)
  })
}

const FILL = {
  /** worker → primary: may this worker fill `key` for the node? */
  claim: 'proxy-cache.fill.claim',
  /** worker → primary: the fill of `key` is over, with the stored entry (encoded) or nothing */
  done: 'proxy-cache.fill.done',
  /** primary → every other worker: an entry a fill stored, for its memory tier `{ instance, entry }` */
  stored: 'proxy-cache.fill.stored',
} as const

/** The answer to a claim: lead the fill, or what the leader stored (base64 of `encode`) or null. */
export type Claim = { leader: true } | { leader: false; entry: string | null }

/** How long a worker waits for another worker's fill before going upstream itself. */
const FILL_WAIT_MS = 10_000

/**
 * Misses collapsed node-wide (memory strategy on a node with workers): the first worker to miss
 * a key leads its fill; the others wait for the entry it stored, sent to them by the primary.
 * One upstream request per key and node. The entry then goes to every other worker's memory
 * tier too (a message per fill, none per hit), so the next request is a hit whichever worker
 * takes it, as with Kong's shared dictionary across nginx workers.
 */
export class NodeFills {
  constructor(readonly peers: NodePeers) {}

  claim(key: string): Promise<Claim> {
    return this.peers
      .ask<Claim>(FILL.claim, key, FILL_WAIT_MS + 1000)
      .catch(() => ({ leader: true }) as const)
  }

  done(key: string, entry: Buffer | null, instance: string): void {
    this.peers.tell(FILL.done, { key, instance, entry: entry === null ? null : entry.toString('base64') })
  }

  /** stores what another worker's fill stored (`store` gets the plugin instance and the encoded entry) */
  hear(store: (instance: string, entry: Buffer) => void): () => void {
    return this.peers.on(FILL.stored, (body) => {
      const { instance, entry } = body as { instance: string; entry: string }
      store(instance, Buffer.from(entry, 'base64'))
    })
  }
}

/** The primary's half: one fill per key and node, its waiters answered with the leader's entry. */
export function fillsPrimary(hub: PrimaryHub): void {
  const fills = new Map<string, { owner: number; waiters: Array<(c: Claim) => void> }>()
  const finish = (key: string, entry: string | null) => {
    const f = fills.get(key)
    if (f === undefined) return
    fills.delete(key)
    for (const w of f.waiters) w({ leader: false, entry })
  }
  hub.handle(FILL.claim, (key, from) => {
    const k = key as string
    const f = fills.get(k)
    if (f === undefined) {
      fills.set(k, { owner: from, waiters: [] })
      return { leader: true }
    }
    return new Promise<Claim>((resolve) => {
      const timer = setTimeout(() => resolve({ leader: false, entry: null }), FILL_WAIT_MS)
      f.waiters.push((c) => {
        clearTimeout(timer)
        resolve(c)
      })
    })
  })
  hub.handle(FILL.done, (body, from) => {
    const { key, entry, instance } = body as { key: string; entry: string | null; instance: string }
    if (fills.get(key)?.owner !== from) return
    finish(key, entry)
    if (entry !== null) hub.broadcast(FILL.stored, { instance, entry }, from)
  })
  // a leader that died: its waiters go upstream themselves
  hub.onWorkerExit((_slot, id) => {
    for (const [key, f] of fills) if (f.owner === id) finish(key, null)
  })
}

import { randomUUID } from 'node:crypto'
import type { PluginScope } from '../../core/plugin.js'
import type { MemoryCache, PluginServices, RedisCache, RedisSettings } from '../../core/services.js'
import type { CachedResponse, Stored } from './entry.js'
import { decode } from './entry.js'
import { hearPurges, NodeFills, purgeEverywhere } from './workers.js'

/** Counters of one plugin instance (they survive reloads with the instance's id). */
export interface CacheStats {
  hits: number
  misses: number
  bypasses: number
}

/** One configured proxy-cache instance as the node sees it. */
export interface CacheInstance {
  readonly id: string
  scope: PluginScope
  strategy: 'memory' | 'redis'
  ttl: number
  /** the memory strategy's dictionary, or the redis strategy's in-process front tier */
  memory: MemoryCache<Stored>
  dictionary: string | null
  /** the redis strategy's shared tier */
  redis: RedisCache | null
  /** where purge notices go and come from (the node's Redis, or config.redis); null: this node only */
  bus: RedisCache | null
  readonly stats: CacheStats
  refs: number
}

/**
 * A collapsed fill in progress: the request that went upstream for a key settles it with the
 * stored entry (waiters answer from it), with nothing (waiters go upstream themselves), or with
 * a stale entry it served because the upstream failed (waiters serve it too).
 */
export class Fill {
  settled = false
  /** a node-wide fill this request leads (workers): told the outcome too */
  onSettle: ((entry: CachedResponse | null) => void) | null = null
  readonly promise: Promise<FillResult>
  #resolve!: (r: FillResult) => void

  constructor(
    readonly key: string,
    readonly pending: Map<string, Fill>,
  ) {
    this.promise = new Promise((r) => {
      this.#resolve = r
    })
    pending.set(key, this)
  }

  settle(entry: CachedResponse | null, stale: CachedResponse | null = null): void {
    if (this.settled) return
    this.settled = true
    if (this.pending.get(this.key) === this) this.pending.delete(this.key)
    this.onSettle?.(entry)
    this.#resolve({ entry, stale })
  }
}

export interface FillResult {
  entry: CachedResponse | null
  stale: CachedResponse | null
}

export type PurgeTarget = { all: true } | { key: string }

/**
 * Per-node state of proxy-cache, shared by every instance and kept across reloads
 * (`services.shared`): the instances with their stores and counters, the fills in progress,
 * the keys being refreshed in the background, the token its fill locks carry, and the purge
 * notices exchanged with the other nodes over Redis.
 *
 * @example
 *   const node = cacheNode(env.services)
 *   await node.purge({ key })   // every node's memory tier, and Redis
 */
export class CacheNode {
  /** this node's part of every fill-lock token */
  readonly token = randomUUID()
  readonly instances = new Map<string, CacheInstance>()
  readonly pending = new Map<string, Fill>()
  readonly refreshing = new Set<string>()
  readonly #dictionaries = new Map<string, MemoryCache<Stored>>()
  /** per dictionary: the budget each instance using it asks for */
  readonly #budgets = new Map<string, Map<string, number>>()
  readonly #fronts = new Map<string, MemoryCache<Stored>>()
  readonly #subscriptions = new Map<RedisCache, { off: () => void; users: number }>()
  #sequence = 0

  /** misses collapsed across the workers of a node (memory strategy); null in a single process */
  readonly fills: NodeFills | null

  constructor(readonly services: PluginServices) {
    services.exposeStatus('/cachez', () => this.cachez())
    const peers = services.peers
    this.fills = peers === undefined ? null : new NodeFills(peers)
    if (peers !== undefined) hearPurges(peers, (n) => this.purgeHere(n.key, n.instance))
    this.fills?.hear((instance, blob) => this.storeFill(instance, blob))
  }

  /** An entry another worker's fill stored: into this worker's memory tier of the same instance. */
  storeFill(instance: string, blob: Buffer): void {
    const inst = this.instances.get(instance)
    if (inst === undefined || inst.strategy !== 'memory') return
    const e = decode(blob)
    if (e !== null && e !== 'stale-format' && e.kind === 'response')
      inst.memory.set(e.key, e, e.bytes, e.storageMs)
  }

  /** A purge made on another worker of this node: this worker's memory tiers. */
  purgeHere(key: string, instance?: string): boolean {
    const only = instance === undefined ? undefined : this.instances.get(instance)
    if (instance !== undefined && only === undefined) return false
    return only ? this.#purgeInstance(only, key) : this.purgeLocal(key)
  }

  /** a fresh lock token: unique per node and request */
  lockToken(): string {
    return `${this.token}:${++this.#sequence}`
  }

  /**
   * The memory strategy's LRU named `name`, shared by every instance naming it. Its budget is
   * the largest `memory_budget_bytes` among the instances using it now, whatever order they
   * were built in (a smaller one never shrinks the cache the others rely on).
   */
  dictionary(name: string, id: string, budget: number): MemoryCache<Stored> {
    // an instance that moved to another dictionary no longer sizes the one it left
    for (const [other, budgets] of this.#budgets) if (other !== name) this.#forget(other, budgets, id)
    let budgets = this.#budgets.get(name)
    if (budgets === undefined) this.#budgets.set(name, (budgets = new Map()))
    budgets.set(id, budget)
    const size = Math.max(...budgets.values())
    let d = this.#dictionaries.get(name)
    if (d === undefined) this.#dictionaries.set(name, (d = this.services.memoryCache<Stored>(size, name)))
    else d.budget = size
    return d
  }

  #forget(name: string, budgets: Map<string, number>, id: string): void {
    if (!budgets.delete(id) || budgets.size === 0) return
    const d = this.#dictionaries.get(name)
    if (d !== undefined) d.budget = Math.max(...budgets.values())
  }

  /** The node's Redis (or the instance's `config.redis`) for notices; null when there is none. */
  busFor(settings: RedisSettings | undefined): RedisCache | null {
    try {
      return this.services.redisCache(settings)
    } catch {
      return null
    }
  }

  /** The redis strategy's in-process front tier of one instance (kept across reloads). */
  frontTier(id: string, budget: number): MemoryCache<Stored> {
    let m = this.#fronts.get(id)
    if (m === undefined)
      this.#fronts.set(id, (m = this.services.memoryCache<Stored>(budget, `proxy_cache_front_${id}`)))
    else m.budget = budget
    return m
  }

  /**
   * Registers an instance built by a config load and subscribes to its purge notices. A reload
   * builds the new instance before the old one closes, so an id keeps its counters and stores;
   * the returned function undoes exactly this registration.
   */
  attach(
    id: string,
    init: Omit<CacheInstance, 'id' | 'stats' | 'refs'>,
  ): { inst: CacheInstance; detach: () => void } {
    let inst = this.instances.get(id)
    if (inst === undefined) {
      inst = { id, ...init, stats: { hits: 0, misses: 0, bypasses: 0 }, refs: 0 }
      this.instances.set(id, inst)
    } else Object.assign(inst, init)
    inst.refs++
    const bus = init.bus
    if (bus !== null) this.#subscribe(bus)
    const it = inst
    let done = false
    const detach = (): void => {
      if (done) return
      done = true
      if (bus !== null) this.#unsubscribe(bus)
      if (--it.refs > 0) return
      this.instances.delete(id)
      if (it.dictionary !== null) {
        const budgets = this.#budgets.get(it.dictionary)
        if (budgets !== undefined) this.#forget(it.dictionary, budgets, id)
      }
      this.#fronts.get(id)?.clear()
      this.#fronts.delete(id)
    }
    return { inst, detach }
  }

  #subscribe(bus: RedisCache): void {
    const sub = this.#subscriptions.get(bus)
    if (sub !== undefined) {
      sub.users++
      return
    }
    const off = bus.listen(
      (notice) => {
        if (notice.startsWith('purge:')) this.purgeLocal(notice.slice(6))
      },
      // purges announced while the subscriber was away were missed: this node's memory tiers
      // may hold purged entries, so they start over (Redis keeps what it has)
      (reconnected) => {
        if (reconnected) this.purgeLocal('*')
      },
    )
    this.#subscriptions.set(bus, { off, users: 1 })
  }

  #unsubscribe(bus: RedisCache): void {
    const sub = this.#subscriptions.get(bus)
    if (sub === undefined || --sub.users > 0) return
    sub.off()
    this.#subscriptions.delete(bus)
  }

  /** Drops a key ('*': everything) from this node's in-process tiers. */
  purgeLocal(key: string): boolean {
    let found = false
    for (const m of this.#memories()) {
      if (key === '*') m.clear()
      else if (m.delete(key)) found = true
    }
    return found
  }

  *#memories(): Iterable<MemoryCache<Stored>> {
    const seen = new Set<MemoryCache<Stored>>()
    for (const d of this.#dictionaries.values()) seen.add(d)
    for (const i of this.instances.values()) seen.add(i.memory)
    yield* seen
  }

  #redises(only?: CacheInstance): RedisCache[] {
    const list = only ? [only] : [...this.instances.values()]
    return [...new Set(list.map((i) => i.redis).filter((r): r is RedisCache => r !== null))]
  }

  #buses(): RedisCache[] {
    const set = new Set<RedisCache>()
    for (const i of this.instances.values()) if (i.bus !== null) set.add(i.bus)
    for (const r of this.#redises()) set.add(r)
    if (set.size === 0) {
      const node = this.busFor(undefined)
      if (node !== null) set.add(node)
    }
    return [...set]
  }

  /**
   * Purges one key or everything: this node's memory tiers, Redis entries, and (by a notice on
   * every Redis the instances use) the other nodes' memory tiers. Resolves with whether the
   * key was found here or in Redis.
   */
  async purge(target: PurgeTarget, only?: CacheInstance): Promise<boolean> {
    const key = 'all' in target ? '*' : target.key
    let found = only ? this.#purgeInstance(only, key) : this.purgeLocal(key)
    const peers = this.services.peers
    if (peers !== undefined && (await purgeEverywhere(peers, { key, instance: only?.id }))) found = true
    for (const r of this.#redises(only)) {
      if (key === '*') await r.flush()
      else if (await r.delete(key)) found = true
    }
    await Promise.all(this.#buses().map((b) => b.publish(`purge:${key}`).catch(() => {})))
    return found
  }

  #purgeInstance(inst: CacheInstance, key: string): boolean {
    if (key !== '*') return inst.memory.delete(key)
    inst.memory.clear()
    return true
  }

  /** Looks a key up in the in-process tiers, then in Redis (Admin API `GET /proxy-cache/:key`). */
  async find(key: string, only?: CacheInstance): Promise<Stored | null> {
    for (const m of only ? [only.memory] : this.#memories()) {
      const e = m.get(key)
      if (e !== undefined) return e
    }
    for (const r of this.#redises(only)) {
      const blob = await r.get(key)
      const e = blob === null ? null : decode(blob)
      if (e !== null && e !== 'stale-format') return e
    }
    return null
  }

  /** The `/cachez` document (DESIGN §2.6): totals, then each instance. */
  async cachez(): Promise<Record<string, unknown>> {
    const redisStats = new Map<RedisCache, Promise<{ entries: number; bytes: number } | null>>()
    for (const r of this.#redises())
      redisStats.set(
        r,
        r.stats().catch(() => null),
      )
    const countedMemory = new Set<MemoryCache<Stored>>()
    let entries = 0
    let bytes = 0
    let hits = 0
    let misses = 0
    let bypasses = 0
    const backends = new Set<string>()
    const ttls = new Set<number>()
    const instances: Array<Record<string, unknown>> = []
    for (const i of this.instances.values()) {
      const mem = i.memory.stats()
      const red = i.redis === null ? null : await redisStats.get(i.redis)!
      if (i.strategy === 'memory' && !countedMemory.has(i.memory)) {
        countedMemory.add(i.memory)
        entries += mem.entries
        bytes += mem.bytes
      }
      hits += i.stats.hits
      misses += i.stats.misses
      bypasses += i.stats.bypasses
      backends.add(i.strategy)
      ttls.add(i.ttl)
      instances.push({
        id: i.id,
        route: i.scope.route ?? null,
        service: i.scope.service ?? null,
        consumer: i.scope.consumer ?? null,
        backend: i.strategy,
        ttl: i.ttl,
        hits: i.stats.hits,
        misses: i.stats.misses,
        bypasses: i.stats.bypasses,
        hit_ratio: ratio(i.stats.hits, i.stats.misses),
        entries: i.strategy === 'redis' ? (red?.entries ?? null) : mem.entries,
        bytes: i.strategy === 'redis' ? (red?.bytes ?? null) : mem.bytes,
        memory: {
          dictionary: i.dictionary,
          entries: mem.entries,
          bytes: mem.bytes,
          budget_bytes: mem.budget,
        },
      })
    }
    for (const r of redisStats.values()) {
      const s = await r
      if (s !== null) {
        entries += s.entries
        bytes += s.bytes
      }
    }
    return {
      hits,
      misses,
      bypasses,
      hit_ratio: ratio(hits, misses),
      backend: backends.size === 0 ? null : [...backends].sort().join('+'),
      ttl: ttls.size === 1 ? [...ttls][0] : ttls.size === 0 ? null : [...ttls].sort((a, b) => a - b),
      entries,
      bytes,
      instances,
    }
  }
}

function ratio(hits: number, misses: number): number {
  const n = hits + misses
  return n === 0 ? 0 : Math.round((hits / n) * 10_000) / 10_000
}

/** The node's proxy-cache state (created on first use, kept across reloads). */
export function cacheNode(services: PluginServices): CacheNode {
  return services.shared('proxy-cache:node', () => new CacheNode(services))
}

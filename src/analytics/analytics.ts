import type { RequestContext } from '../core/context.js'
import type { Logger } from '../core/logger.js'
import { measure } from '../observability/facts.js'
import type { Backend, Batch } from './backend.js'
import { type Cell, Interval } from './interval.js'
import { cacheHitTest, type HitSource } from './outcome.js'

export interface AnalyticsSettings {
  /** how often a node flushes its interval (ms) */
  flushMs: number
  /** the fine tier's bucket (seconds; divides an hour) */
  resolutionSec: number
  /** how long fine buckets are kept (seconds) */
  fineRetentionSec: number
  /** how long hour buckets, top lists and daily unique clients are kept (seconds) */
  hourRetentionSec: number
  /** route × consumer cells per interval before new consumers share one '(other)' cell */
  maxCells: number
  /** paths tracked per interval (Space-Saving capacity) */
  topPaths: number
  /** members kept per hour in each top list */
  topKeep: number
  /** distinct clients held per interval before it is flushed early */
  maxClients: number
}

export const DEFAULT_ANALYTICS: AnalyticsSettings = {
  flushMs: 5000,
  resolutionSec: 60,
  fineRetentionSec: 24 * 3600,
  hourRetentionSec: 30 * 24 * 3600,
  maxCells: 2000,
  topPaths: 200,
  topKeep: 1000,
  maxClients: 50_000,
}

/** hourly unique-client counters are kept this long (daily ones for the hour retention) */
const HOURLY_UNIQUES_SEC = 48 * 3600

export interface AnalyticsOptions {
  backend: Backend
  settings: AnalyticsSettings
  /** the node's key prefix (`portico:`); the analytics keys add their own `{analytics}:` tag */
  keyPrefix: string
  nodeId: string
  hostname: string
  /** this node's config generation and hash, reported beside its flushes */
  config(): { generation: number; hash: string }
  /** built-in endpoints (`/healthz`) are not traffic */
  isBuiltin(path: string): boolean
  log: Logger
  now?: () => number
  /** the outcome values plugins declared as cache hits (none: no hit is counted) */
  cacheHits?: readonly HitSource[]
}

/**
 * Key names, shared by the writer and the reader: under the node's prefix, with one hash tag
 * for every analytics key (one Cluster slot, so multi-key PFCOUNT works there too).
 */
export class Keys {
  readonly prefix: string
  constructor(nodePrefix: string) {
    this.prefix = `${nodePrefix}{analytics}:`
  }
  fine(bucketSec: number, entity: string): string {
    return `${this.prefix}f:${bucketSec}:${entity}`
  }
  hour(hour: number, entity: string): string {
    return `${this.prefix}h:${hour}:${entity}`
  }
  top(by: string, hour: number): string {
    return `${this.prefix}t:${by}:${hour}`
  }
  uniquesHour(hour: number): string {
    return `${this.prefix}u:h:${hour}`
  }
  uniquesDay(day: number): string {
    return `${this.prefix}u:d:${day}`
  }
  get nodes(): string {
    return `${this.prefix}nodes`
  }
}

const label = (e: { id: string; name?: string | undefined }) => e.name ?? e.id

/** Adds a cell's counters to an entity's field map (field names: see query.ts). */
function addCell(fields: Map<string, number>, cell: Cell): void {
  const inc = (f: string, n: number) => {
    if (n !== 0) fields.set(f, (fields.get(f) ?? 0) + n)
  }
  inc('n', cell.n)
  for (let i = 0; i < 6; i++) inc(`c${i}`, cell.classes[i]!)
  inc('bi', cell.bytesIn)
  inc('bo', cell.bytesOut)
  inc('rl', cell.rateLimited)
  inc('ch', cell.cacheHits)
  for (const [b, n] of cell.bins) inc(`b${b}`, n)
}

/**
 * Usage analytics of one node: a log-phase observer that adds each request to the current
 * interval (a few counter updates, see interval.ts), and a timer that every few seconds (and
 * at each bucket boundary) rolls the interval up per entity and flushes it to the backend.
 *
 * @example
 *   const a = new Analytics({ backend: new MemoryBackend(), settings: DEFAULT_ANALYTICS, … })
 *   gateway.observers.push(a.observer)
 */
export class Analytics {
  readonly keys: Keys
  readonly now: () => number
  #current: Interval
  #timer: NodeJS.Timeout | null = null
  #flushing: Promise<void> = Promise.resolve()
  #failures = 0
  #closed = false
  readonly #cacheHit: (ctx: RequestContext) => boolean

  constructor(readonly options: AnalyticsOptions) {
    this.keys = new Keys(options.keyPrefix)
    this.now = options.now ?? Date.now
    this.#cacheHit = cacheHitTest(options.cacheHits ?? [])
    this.#current = this.#interval()
    this.#schedule()
  }

  get settings(): AnalyticsSettings {
    return this.options.settings
  }

  readonly observer = (ctx: RequestContext): void => {
    if (ctx.route === null && this.options.isBuiltin(ctx.path)) return
    const iv = this.#current
    iv.record(ctx, measure(ctx, performance.now()))
    if (iv.clients.size >= this.settings.maxClients && iv === this.#current) void this.flush()
  }

  /** Flushes what this node holds now; resolves when it (and any flush before it) is written. */
  flush(): Promise<void> {
    const iv = this.#current
    this.#current = this.#interval()
    const next = this.#flushing.then(() => this.#write(iv))
    this.#flushing = next
    return next
  }

  /** Before an Admin API read: this process's interval and (workers) every other worker's are written. */
  async flushNode(): Promise<void> {
    await this.flush()
    await this.options.backend.gather?.()
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    await this.flush()
  }

  #interval(): Interval {
    const res = this.settings.resolutionSec * 1000
    return new Interval(
      Math.floor(this.now() / res) * res,
      this.settings.maxCells,
      this.settings.topPaths,
      this.#cacheHit,
    )
  }

  /** next flush: after flushMs, or just past the next bucket boundary if that comes first */
  #schedule(): void {
    if (this.#closed) return
    const res = this.settings.resolutionSec * 1000
    const now = this.now()
    const boundary = Math.floor(now / res) * res + res - now + 1
    this.#timer = setTimeout(
      () => {
        this.flush().finally(() => this.#schedule())
      },
      Math.min(this.settings.flushMs, boundary),
    )
    this.#timer.unref()
  }

  async #write(iv: Interval): Promise<void> {
    const batch = this.#batch(iv)
    try {
      await this.options.backend.write(batch)
    } catch (err) {
      // the interval is dropped (memory stays bounded while the backend is away); said once in a while
      if (this.#failures++ % 100 === 0)
        this.options.log.warn({ err, failures: this.#failures }, 'analytics flush failed')
    }
  }

  #batch(iv: Interval): Batch {
    const s = this.settings
    const entities = new Map<string, Map<string, number>>()
    const fieldsOf = (e: string) => {
      let m = entities.get(e)
      if (m === undefined) entities.set(e, (m = new Map()))
      return m
    }
    const consumers = new Map<string, number>()
    const routes = new Map<string, number>()
    for (const byConsumer of iv.byRoute.values()) {
      for (const cell of byConsumer.values()) {
        addCell(fieldsOf('*'), cell)
        if (cell.service !== null) addCell(fieldsOf(`s:${label(cell.service)}`), cell)
        if (cell.route !== null) {
          const r = label(cell.route)
          addCell(fieldsOf(`r:${r}`), cell)
          routes.set(r, (routes.get(r) ?? 0) + cell.n)
        }
        if (cell.consumer !== '') {
          addCell(fieldsOf(`c:${cell.consumer}`), cell)
          consumers.set(cell.consumer, (consumers.get(cell.consumer) ?? 0) + cell.n)
        }
      }
    }
    const bucketSec = iv.bucket / 1000
    const hour = Math.floor(bucketSec / 3600)
    const day = Math.floor(hour / 24)
    const batch: Batch = { hashes: [], zsets: [], uniques: [], node: this.#nodeLine() }
    for (const [e, fields] of entities) {
      batch.hashes.push({ key: this.keys.fine(bucketSec, e), fields, ttlSec: s.fineRetentionSec })
      batch.hashes.push({ key: this.keys.hour(hour, e), fields, ttlSec: s.hourRetentionSec })
    }
    const tops: Array<[string, Map<string, number>]> = [
      ['consumer', consumers],
      ['route', routes],
      ['path', iv.paths.counts],
    ]
    for (const [by, members] of tops) {
      if (members.size > 0)
        batch.zsets.push({
          key: this.keys.top(by, hour),
          members,
          keep: s.topKeep,
          ttlSec: s.hourRetentionSec,
        })
    }
    if (iv.clients.size > 0) {
      const items = [...iv.clients]
      batch.uniques.push({ key: this.keys.uniquesHour(hour), items, ttlSec: HOURLY_UNIQUES_SEC })
      batch.uniques.push({ key: this.keys.uniquesDay(day), items, ttlSec: s.hourRetentionSec })
    }
    return batch
  }

  #nodeLine(): Batch['node'] {
    const { generation, hash } = this.options.config()
    const value = JSON.stringify({
      node_id: this.options.nodeId,
      hostname: this.options.hostname,
      config_generation: generation,
      config_hash: hash,
      seen_at: this.now(),
    })
    return { id: this.options.nodeId, value, ttlSec: 3600 }
  }
}

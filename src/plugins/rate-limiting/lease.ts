import { randomUUID } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import type { AccessResult, PluginInstance } from '../../core/plugin.js'
import type { RedisArg, RedisCallOptions, RedisConnection, RedisScript } from '../../core/services.js'
import type { Algorithm, Limit } from './algorithms.js'
import { type BlockSizing, blockWant, HOLD_MS, IDLE_MS, RECHECK_MS, REDIS_BLOCKS } from './blocks.js'
import { LEASE_LUA } from './lease-lua.js'
import { isDeadline } from './redis-store.js'
import type { RateLimitingStats } from './stats.js'

/** How often the idle/expired sweep runs. */
const SWEEP_MS = 100

/**
 * Where a limiter's units come from: Redis (the redis policy, {@link RedisQuota}) or the
 * primary of a node with workers (the local policy, `node-counters.ts`).
 */
export interface QuotaSource {
  /** how its blocks are sized (blocks.ts) */
  readonly sizing: BlockSizing
  /**
   * How long a request waits on a question before it fails by the fault policy (each request
   * counts from its own arrival): Redis's call deadline; unbounded for a source whose question
   * either answers or fails as a whole (it then fails every request waiting on it).
   */
  readonly deadlineMs: number
  /** false while the source cannot answer (Redis down, breaker open): requests fail without a call */
  available(): boolean
  /**
   * Asks for `need` units of `key` now and up to `want` more. `done` gets the answer in
   * `LEASE_LUA`'s layout (`[granted, t0, refused, retry ms, ttl ms, remaining₁, reset ms₁, …]`)
   * and how long a refusal may be answered without asking again, or the error. A question that
   * missed its deadline (the error `isDeadline`) but ran at the source gets its answer in `late`
   * after all: the caller serves whoever still waits with it, or gives its units back.
   */
  lease(
    key: string,
    need: number,
    want: number,
    done: (err: Error | null, res: number[] | null, holdMs: number) => void,
    late: (res: number[], holdMs: number) => void,
  ): void
  /** Gives back `units` unused units of a grant made at `t0` (the answer's t0), no answer. */
  giveBack(key: string, units: number, t0: number): void
}

/**
 * The redis policy's source: one `rate-limit-lease` script call per question (lease-lua.ts).
 * Its grants are recorded in Redis under this instance's own name, so a return counts only where
 * that grant was recorded, once (a grant lost with a failed master, a replayed or stale return
 * change nothing).
 */
export class RedisQuota implements QuotaSource {
  readonly sizing = REDIS_BLOCKS
  readonly #script: RedisScript<number[]>
  readonly #options: RedisCallOptions
  readonly #back: RedisCallOptions = { background: true }
  readonly #leaseArgs: RedisArg[]
  readonly #returnArgs: RedisArg[]

  constructor(
    readonly conn: RedisConnection,
    algo: Algorithm,
    limits: readonly Limit[],
    readonly deadlineMs: number,
  ) {
    this.#script = conn.script<number[]>('rate-limit-lease', LEASE_LUA, 1)
    this.#options = { deadlineMs }
    const perWindow = limits.flatMap((l) => [l.code, l.size, l.limit, l.capacity, l.interval])
    // the grants of this instance are recorded under its own name (see lease-lua.ts)
    const holder = randomUUID()
    this.#leaseArgs = ['', algo, limits.length, 1, 0, 0, 0, holder, ...perWindow]
    this.#returnArgs = ['', algo, limits.length, 2, 0, 0, 0, holder, ...perWindow]
  }

  available(): boolean {
    return this.conn.available()
  }

  lease(
    key: string,
    need: number,
    want: number,
    done: (err: Error | null, res: number[] | null, holdMs: number) => void,
    late: (res: number[], holdMs: number) => void,
  ): void {
    const args = this.#leaseArgs.slice()
    args[0] = key
    args[5] = need
    args[6] = want
    this.#script.send(
      args,
      this.#options,
      // other nodes may hold units that come back: a refusal is asked again after RECHECK_MS
      (err, res) => done(err, res ?? null, RECHECK_MS),
      (res) => late(res, RECHECK_MS),
    )
  }

  giveBack(key: string, units: number, t0: number): void {
    const args = this.#returnArgs.slice()
    args[0] = key
    args[5] = units
    args[6] = t0
    this.#script.send(args, this.#back, () => {})
  }
}

/** What a leased request resolves with: the verdict, or null when the store failed. */
export type LeaseReply = (verdict: ArrayLike<number> | null) => void

/** A request waiting on a question, and the end of its own deadline (performance.now()). */
interface Waiter {
  reply: LeaseReply
  until: number
}

/** Per key: the units in hand, what the source said at the grant, and the requests waiting on a question. */
class Lease {
  /** units granted and not used yet */
  left = 0
  /** the source's time of the grant those units come from (the return names their windows by it) */
  t0 = 0
  /** local ms after which the units are returned instead of used */
  expiresAt = 0
  /** local ms of the last grant, and units used since (the rate that sizes the next block) */
  grantedAt = 0
  used = 0
  /** size of the last grant: a block at most doubles from one call to the next (a burst's first
   * milliseconds overstate its rate) */
  block = 0
  lastUse = 0
  /** a refusal answered locally until this local time */
  refusedUntil = 0
  /** a grant or a refusal this epoch: an undo of an older epoch is dropped */
  epoch = 0
  /** per window after the grant: remaining at the source and the local time of the reset */
  readonly remaining: Float64Array
  readonly resetAt: Float64Array
  refusedIndex = 0
  retryAt = 0
  /** requests waiting for the question in flight (null: no question in flight) */
  waiting: Waiter[] | null = null
  /** the question in flight (numbered), and whether it already missed its deadline */
  call = 0
  overdue = false
  /** local ms the question in flight was sent: the lease's end counts from it, so an answer
   * that came late (or slowly) never stretches a lease past the window it was granted in */
  sentAt = 0
  /** fails the waiters of an overdue question at their own deadlines */
  timer: NodeJS.Timeout | null = null

  constructor(windows: number) {
    this.remaining = new Float64Array(windows)
    this.resetAt = new Float64Array(windows)
  }
}

/**
 * Quota taken in blocks from a {@link QuotaSource} and admitted locally, synchronously, with no
 * promise: the redis policy's leasing mode (units from Redis, one `rate-limit-lease` script call
 * each) and the local policy on a node with workers (units from the primary, one IPC question
 * each). Only an empty or expired lease costs a question; the requests that arrive during it
 * wait on the same one (its `need`), so a burst costs one round trip, not one per request.
 * Blocks are sized by `blocks.ts`. Each waiting request keeps its own deadline: a question
 * that misses the source's deadline fails only the requests whose deadline is over, and its
 * late answer (the source ran it) decides the others, or goes back when nobody waits.
 *
 * The limit is never exceeded: a unit is admitted only once the source granted it (and the
 * source counted it as admitted then). Accuracy comes from giving unused units back: on idle
 * ({@link IDLE_MS}), at the lease's end (its first window's end or {@link HOLD_MS}) and on
 * {@link close}. A holder that dies keeps its block until its windows end. Headers report the
 * source's remaining at the grant plus the units this holder has, which is exact with one
 * holder and an estimate across several.
 *
 * @example
 *   const lim = new LeaseLimiter(new RedisQuota(conn, FIXED, limits, 50), limits.length, stats)
 *   const v = lim.take(key, Date.now())       // a verdict now, or null: ask the source
 *   if (v === null) lim.wait(key, (v) => …)
 */
export class LeaseLimiter {
  readonly #keys = new Map<string, Lease>()
  /** the verdict of a local decision, read synchronously by the caller */
  readonly #out: Float64Array
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor(
    readonly source: QuotaSource,
    readonly windows: number,
    readonly stats: RateLimitingStats,
    /** keys held at most (the oldest is given back and forgotten past it) */
    readonly maxKeys = Number.POSITIVE_INFINITY,
  ) {
    this.#out = new Float64Array(2 + 2 * windows)
  }

  /** False while the source is down (Redis, or its breaker open): the caller fails without a call. */
  available(): boolean {
    if (this.source.available()) return true
    this.stats.errors++
    return false
  }

  /**
   * Decides locally when it can: a unit of the lease (admitted), or a refusal the source gave that
   * still holds. Returns the verdict (valid until the next call) or null when the source is needed.
   */
  take(key: string, now: number): Float64Array | null {
    const e = this.#keys.get(key)
    if (e === undefined) return null
    if (e.left > 0) {
      if (now < e.expiresAt && e.waiting === null) {
        e.left--
        e.used++
        e.lastUse = now
        return this.#admitted(e, now)
      }
      if (now >= e.expiresAt) this.#giveBack(key, e)
    }
    if (e.left === 0 && now < e.refusedUntil) return this.#refused(e, now)
    return null
  }

  /** Gives one admitted unit back to the lease it came from (a later instance refused the request). */
  undo(key: string, epoch: number): void {
    const e = this.#keys.get(key)
    if (e !== undefined && e.epoch === epoch && Date.now() < e.expiresAt) e.left++
  }

  /** The epoch of the key's lease, for {@link undo}. */
  epochOf(key: string): number {
    return this.#keys.get(key)?.epoch ?? -1
  }

  /** Waits for units from the source: `reply` gets a verdict, or null when the store failed. */
  wait(key: string, reply: LeaseReply): void {
    let e = this.#keys.get(key)
    if (e === undefined) {
      if (this.#keys.size >= this.maxKeys) this.#forgetOldest()
      e = new Lease(this.windows)
      this.#keys.set(key, e)
      if (this.#timer === null && !this.#closed) {
        this.#timer = setInterval(() => this.sweep(Date.now()), SWEEP_MS)
        this.#timer.unref()
      }
    }
    const w: Waiter = { reply, until: performance.now() + this.source.deadlineMs }
    if (e.waiting !== null) {
      e.waiting.push(w)
      return
    }
    e.waiting = [w]
    this.#ask(key, e)
  }

  /** One question for everything waiting on `e`. */
  #ask(key: string, e: Lease): void {
    const now = Date.now()
    const need = e.waiting!.length
    const want = blockWant(this.source.sizing, e.grantedAt, e.used, need, e.block, now)
    const call = ++e.call
    e.overdue = false
    e.sentAt = now
    this.source.lease(
      key,
      need,
      want,
      (err, res, holdMs) => {
        if (err === null) return this.#granted(key, e, res!, holdMs)
        if (!isDeadline(err)) {
          // the source refused or is gone: each waiter's own question would have failed too
          this.stats.errors++
          return this.#fail(e, Number.POSITIVE_INFINITY)
        }
        // a missed deadline fails only the requests whose own deadline is over (as their own
        // calls would have); the later ones wait for the late answer until theirs
        this.stats.timeouts++
        e.overdue = true
        this.#fail(e, performance.now())
      },
      (res, holdMs) => {
        // the question missed its deadline but the source ran it: it serves whoever still
        // waits on it, and what nobody takes goes back, so no unit is lost
        if (e.call === call && e.overdue && e.waiting !== null) return this.#granted(key, e, res, holdMs)
        if (res[0]! > 0) this.source.giveBack(key, res[0]!, res[1]!)
      },
    )
  }

  /**
   * Fails (store failed: the instance's fault policy, per request) the waiters whose deadline
   * is at or before `now`; the rest keep waiting on the overdue question, each until its deadline.
   */
  #fail(e: Lease, now: number): void {
    if (e.timer !== null) clearTimeout(e.timer)
    e.timer = null
    const waiting = e.waiting!
    let i = 0
    while (i < waiting.length && waiting[i]!.until <= now) i++
    if (i === waiting.length) {
      e.waiting = null
      e.overdue = false
    } else {
      e.waiting = waiting.slice(i)
      const next = e.waiting[0]!.until - now
      e.timer = setTimeout(() => this.#fail(e, performance.now()), next + 1)
      e.timer.unref()
    }
    for (let j = 0; j < i; j++) waiting[j]!.reply(null)
  }

  /** At the cap: the oldest key without a question in flight goes (its units back). */
  #forgetOldest(): void {
    for (const [key, e] of this.#keys) {
      if (e.waiting !== null) continue
      this.#giveBack(key, e)
      this.#keys.delete(key)
      return
    }
  }

  #granted(key: string, e: Lease, res: number[], holdMs: number): void {
    const now = Date.now()
    const granted = res[0]!
    e.epoch++
    for (let i = 0; i < this.windows; i++) {
      e.remaining[i] = res[5 + 2 * i]!
      e.resetAt[i] = now + res[6 + 2 * i]!
    }
    const waiting = e.waiting!
    e.waiting = null
    e.overdue = false
    if (e.timer !== null) clearTimeout(e.timer)
    e.timer = null
    if (granted === 0) {
      e.refusedIndex = res[2]!
      e.retryAt = now + res[3]!
      e.refusedUntil = now + Math.min(res[3]!, holdMs)
      for (const w of waiting) w.reply(this.#refused(e, now))
      return
    }
    e.left = granted
    e.block = granted
    e.t0 = res[1]!
    e.expiresAt = e.sentAt + Math.min(res[4]!, HOLD_MS)
    e.grantedAt = now
    e.used = 0
    e.refusedUntil = 0
    let i = 0
    for (; i < waiting.length && e.left > 0; i++) {
      e.left--
      e.used++
      e.lastUse = now
      waiting[i]!.reply(this.#admitted(e, now))
    }
    // a call the instance's close overtook: what it brought goes straight back
    if (this.#closed) this.#giveBack(key, e)
    if (i === waiting.length) return
    // fewer units than requests: the rest ask again (the source refuses them or grants what freed up)
    e.waiting = waiting.slice(i)
    this.#ask(key, e)
  }

  #admitted(e: Lease, now: number): Float64Array {
    const v = this.#out
    v[0] = 0
    v[1] = 0
    for (let i = 0; i < this.windows; i++) {
      v[2 + 2 * i] = e.remaining[i]! + e.left
      v[3 + 2 * i] = Math.max(1, e.resetAt[i]! - now)
    }
    return v
  }

  #refused(e: Lease, now: number): Float64Array {
    const v = this.#out
    v[0] = e.refusedIndex
    v[1] = Math.max(1, e.retryAt - now)
    for (let i = 0; i < this.windows; i++) {
      v[2 + 2 * i] = e.remaining[i]!
      v[3 + 2 * i] = Math.max(1, e.resetAt[i]! - now)
    }
    return v
  }

  /** Returns the unused units of `e` to the source (no answer waited for). */
  #giveBack(key: string, e: Lease): void {
    if (e.left > 0) this.source.giveBack(key, e.left, e.t0)
    e.left = 0
    e.epoch++
  }

  /**
   * Returns what idle or expired leases hold and forgets keys with nothing in hand. Runs every
   * {@link SWEEP_MS} while the limiter holds keys.
   */
  sweep(now: number): void {
    for (const [key, e] of this.#keys) {
      if (e.waiting !== null) continue
      if (e.left > 0 && (now >= e.expiresAt || now - e.lastUse >= IDLE_MS)) this.#giveBack(key, e)
      if (e.left === 0 && now >= e.refusedUntil && now - e.lastUse >= IDLE_MS) this.#keys.delete(key)
    }
    if (this.#keys.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer)
      this.#timer = null
    }
  }

  /** The instance closed (reload or stop): every unit in hand goes back to the source. */
  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    for (const [key, e] of this.#keys) this.#giveBack(key, e)
    this.#keys.clear()
  }
}

/** What the leasing instance needs from the compiled config (plugin.ts builds it). */
export interface LeaseSteps {
  /** the key of a request's client (a Redis key, or the identifier in the primary's table) */
  key: (ctx: RequestContext) => string
  composed: boolean
  decide: (ctx: RequestContext, v: ArrayLike<number>, undo: (() => void) | null) => AccessResult
  storeFailed: () => AccessResult
}

/**
 * The access phase of a leasing instance: synchronous (no promise) while the key's lease has
 * units or a refusal still holds; one awaited call otherwise.
 */
export function leaseInstance(limiter: LeaseLimiter, steps: LeaseSteps): PluginInstance {
  const { key: keyOf, composed, decide, storeFailed } = steps
  const undoFor = (key: string): (() => void) => {
    const epoch = limiter.epochOf(key)
    return () => limiter.undo(key, epoch)
  }
  return {
    access(ctx) {
      const key = keyOf(ctx)
      const v = limiter.take(key, Date.now())
      if (v !== null) return decide(ctx, v, v[0] === 0 && composed ? undoFor(key) : null)
      if (!limiter.available()) return storeFailed()
      return new Promise<AccessResult>((resolve, reject) => {
        limiter.wait(key, (v) => {
          try {
            if (v === null) resolve(storeFailed())
            else resolve(decide(ctx, v, v[0] === 0 && composed ? undoFor(key) : null))
          } catch (err) {
            reject(err)
          }
        })
      })
    },
    close() {
      limiter.close()
    },
  }
}

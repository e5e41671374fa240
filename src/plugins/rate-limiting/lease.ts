import { randomUUID } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import type { AccessResult, PluginInstance } from '../../core/plugin.js'
import type { RedisArg, RedisCallOptions, RedisConnection, RedisScript } from '../../core/services.js'
import type { Algorithm, Limit } from './algorithms.js'
import { LEASE_LUA } from './lease-lua.js'
import { isDeadline } from './redis-store.js'
import type { RateLimitingStats } from './stats.js'

/**
 * A lease is sized to last this long at the key's own recent rate: one script call per key per
 * ~200 ms on a busy key (a block of 20+ at 100 requests/s), and what a node that dies takes with
 * it is about 200 ms of its own traffic.
 */
export const HORIZON_MS = 200
/** Units unused this long go back (the node went idle for this key). */
export const IDLE_MS = 400
/** A lease is returned at the latest this long after its grant, or at its first window's end. */
export const HOLD_MS = 1_000
/** An exhausted key is answered locally until its retry time, but asks Redis again after this. */
export const RECHECK_MS = 1_000
/** How often the idle/expired sweep runs. */
const SWEEP_MS = 100

/** What a leased request resolves with: the verdict, or null when the store failed. */
export type LeaseReply = (verdict: ArrayLike<number> | null) => void

/** A request waiting on a lease call, and the end of its own deadline (performance.now()). */
interface Waiter {
  reply: LeaseReply
  until: number
}

/** Per key: the units in hand, what Redis said at the grant, and the requests waiting on a call. */
class Lease {
  /** units granted and not used yet */
  left = 0
  /** Redis time of the grant those units come from (the return names their windows by it) */
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
  /** per window after the grant: remaining in Redis and the local time of the reset */
  readonly remaining: Float64Array
  readonly resetAt: Float64Array
  refusedIndex = 0
  retryAt = 0
  /** requests waiting for the call in flight (null: no call in flight) */
  waiting: Waiter[] | null = null
  /** the call in flight (numbered), and whether it already missed its deadline */
  call = 0
  overdue = false
  /** local ms the call in flight was sent: the lease's end counts from it, so a reply that came
   * late (or slowly) never stretches a lease past the window Redis granted it in */
  sentAt = 0
  /** fails the waiters of an overdue call at their own deadlines */
  timer: NodeJS.Timeout | null = null

  constructor(windows: number) {
    this.remaining = new Float64Array(windows)
    this.resetAt = new Float64Array(windows)
  }
}

/**
 * The `redis` policy's leasing mode: quota taken from Redis in blocks (one `rate-limit-lease`
 * script call each, see `lease-lua.ts`) and admitted locally, synchronously, with no promise.
 * Only an empty or expired lease costs a call; the requests that arrive during it wait on the
 * same call (its `need`), so a burst costs one round trip, not one per request.
 *
 * The limit is never exceeded: a unit is admitted only once Redis granted it. Accuracy comes
 * from giving unused units back: on idle ({@link IDLE_MS}), at the lease's end (its first
 * window's end or {@link HOLD_MS}) and on {@link close}. A node that dies keeps its block
 * until its windows end. Headers report Redis's remaining at the grant plus the units this node
 * holds, which is exact on one node and an estimate across several.
 *
 * @example
 *   const lim = new LeaseLimiter(conn, FIXED, limits, 50, stats)
 *   const v = lim.take(key, Date.now())       // a verdict now, or null: ask Redis
 *   if (v === null) lim.wait(key, (v) => …)
 */
export class LeaseLimiter {
  readonly #script: RedisScript<number[]>
  readonly #options: RedisCallOptions
  readonly #deadlineMs: number
  readonly #back: RedisCallOptions = { background: true }
  readonly #leaseArgs: RedisArg[]
  readonly #returnArgs: RedisArg[]
  readonly #n: number
  readonly #keys = new Map<string, Lease>()
  /** the verdict of a local decision, read synchronously by the caller */
  readonly #out: Float64Array
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor(
    readonly conn: RedisConnection,
    algo: Algorithm,
    limits: readonly Limit[],
    deadlineMs: number,
    readonly stats: RateLimitingStats,
  ) {
    this.#script = conn.script<number[]>('rate-limit-lease', LEASE_LUA, 1)
    this.#options = { deadlineMs }
    this.#deadlineMs = deadlineMs
    this.#n = limits.length
    const perWindow = limits.flatMap((l) => [l.code, l.size, l.limit, l.capacity, l.interval])
    // the grants of this instance are recorded under its own name (see lease-lua.ts)
    const holder = randomUUID()
    this.#leaseArgs = ['', algo, limits.length, 1, 0, 0, 0, holder, ...perWindow]
    this.#returnArgs = ['', algo, limits.length, 2, 0, 0, 0, holder, ...perWindow]
    this.#out = new Float64Array(2 + 2 * limits.length)
  }

  /** False while Redis is down or the breaker is open: the caller fails without a call. */
  available(): boolean {
    if (this.conn.available()) return true
    this.stats.errors++
    return false
  }

  /**
   * Decides locally when it can: a unit of the lease (admitted), or a refusal Redis gave that
   * still holds. Returns the verdict (valid until the next call) or null when Redis is needed.
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

  /** Waits for units from Redis: `reply` gets a verdict, or null when the store failed. */
  wait(key: string, reply: LeaseReply): void {
    let e = this.#keys.get(key)
    if (e === undefined) {
      e = new Lease(this.#n)
      this.#keys.set(key, e)
      if (this.#timer === null && !this.#closed) {
        this.#timer = setInterval(() => this.sweep(Date.now()), SWEEP_MS)
        this.#timer.unref()
      }
    }
    const w: Waiter = { reply, until: performance.now() + this.#deadlineMs }
    if (e.waiting !== null) {
      e.waiting.push(w)
      return
    }
    e.waiting = [w]
    this.#ask(key, e)
  }

  /** One lease call for everything waiting on `e`. */
  #ask(key: string, e: Lease): void {
    const now = Date.now()
    const need = e.waiting!.length
    // the key's recent rate sizes the block: units used since the last grant over the time since,
    // capped at twice the last block or twice what waited on this call (requests that piled up
    // during one round trip are demand already seen: a fresh busy key needs no third call)
    const elapsed = Math.max(1, now - e.grantedAt)
    const rate = e.grantedAt === 0 ? 0 : (e.used + need) / elapsed
    const want = Math.min(Math.ceil(rate * HORIZON_MS), Math.max(4, 2 * e.block, 2 * need))
    const args = this.#leaseArgs.slice()
    args[0] = key
    args[5] = need
    args[6] = want
    const call = ++e.call
    e.overdue = false
    e.sentAt = now
    this.#script.send(
      args,
      this.#options,
      (err, res) => {
        if (err === null) return this.#granted(key, e, res!)
        if (!isDeadline(err)) {
          // Redis refused or the connection failed: each waiter's own call would have failed too
          this.stats.errors++
          return this.#fail(e, Number.POSITIVE_INFINITY)
        }
        // a missed deadline fails only the requests whose own deadline is over (as their own
        // calls would have); the later ones wait for the late reply until theirs
        this.stats.timeouts++
        e.overdue = true
        this.#fail(e, performance.now())
      },
      (res) => {
        // the call missed its deadline but Redis ran it: it serves whoever still waits on it,
        // and what nobody takes goes back, so no unit is lost
        if (e.call === call && e.overdue && e.waiting !== null) return this.#granted(key, e, res)
        if (res[0]! > 0) this.#send(key, res[0]!, res[1]!)
      },
    )
  }

  /**
   * Fails (store failed: the instance's fault policy, per request) the waiters whose deadline
   * is at or before `now`; the rest keep waiting on the overdue call, each until its deadline.
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

  #granted(key: string, e: Lease, res: number[]): void {
    const now = Date.now()
    const granted = res[0]!
    e.epoch++
    for (let i = 0; i < this.#n; i++) {
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
      e.refusedUntil = now + Math.min(res[3]!, RECHECK_MS)
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
    // fewer units than requests: the rest ask again (Redis refuses them or grants what freed up)
    e.waiting = waiting.slice(i)
    this.#ask(key, e)
  }

  #admitted(e: Lease, now: number): Float64Array {
    const v = this.#out
    v[0] = 0
    v[1] = 0
    for (let i = 0; i < this.#n; i++) {
      v[2 + 2 * i] = e.remaining[i]! + e.left
      v[3 + 2 * i] = Math.max(1, e.resetAt[i]! - now)
    }
    return v
  }

  #refused(e: Lease, now: number): Float64Array {
    const v = this.#out
    v[0] = e.refusedIndex
    v[1] = Math.max(1, e.retryAt - now)
    for (let i = 0; i < this.#n; i++) {
      v[2 + 2 * i] = e.remaining[i]!
      v[3 + 2 * i] = Math.max(1, e.resetAt[i]! - now)
    }
    return v
  }

  /** Returns the unused units of `e` to Redis (fire and forget, past an open breaker). */
  #giveBack(key: string, e: Lease): void {
    if (e.left > 0) this.#send(key, e.left, e.t0)
    e.left = 0
    e.epoch++
  }

  #send(key: string, units: number, t0: number): void {
    const args = this.#returnArgs.slice()
    args[0] = key
    args[5] = units
    args[6] = t0
    this.#script.send(args, this.#back, () => {})
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

  /** The instance closed (reload or stop): every unit in hand goes back to Redis. */
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
  /** the Redis key of a request's client */
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

import { randomBytes } from 'node:crypto'
import type { AccessResult, Reply } from '../../core/plugin.js'
import { BATCH, type SlotStore } from './redis-slots.js'
import { type Outcome, QUEUED, type RequestQueueStats } from './stats.js'
import { DONE, HOLDING, type Scope, type Ticket } from './ticket.js'

/** What the redis steps need of the queue they serve (the queue itself: `RequestQueue`). */
export interface Waiters {
  readonly limits: { concurrency: number; leaseMs: number; pollMs: number; faultTolerant: boolean }
  readonly stats: RequestQueueStats
  admit(t: Ticket, outcome: Outcome, lease: string): void
  settle(t: Ticket, r: AccessResult): void
  enqueue(t: Ticket): Reply | null
  dequeue(s: Scope): Ticket | null
  redisFailed(t: Ticket): AccessResult
  tidy(s: Scope): void
}

/**
 * The redis policy's steps of a queue: slots are leases in a sorted set shared by every node
 * (see {@link LeaseStore}); this node's waiters stay in the queue's FIFO. A newcomer asks Redis
 * ({@link ask}); waiters get slots in batches ({@link pump}), on a freed-slot notice or the
 * poll every `pollMs`; held leases are renewed every third of `leaseMs`.
 */
export class SharedSlots {
  /** scopes by their sorted set's key, for the freed-slot notices */
  readonly #byKey = new Map<string, Scope>()
  readonly #tag = randomBytes(6).toString('base64url')
  #seq = 0
  #renewTimer: NodeJS.Timeout | null = null

  constructor(
    readonly q: Waiters,
    readonly redis: SlotStore,
    /** the scopes of the queue (for renewal) */
    readonly scopes: ReadonlyMap<string, Scope>,
  ) {}

  /** Subscribes to freed-slot notices; called when the first instance uses the queue. */
  listen(): void {
    this.redis.listen(
      (key) => {
        const s = this.#byKey.get(key)
        if (s !== undefined && s.waiting > 0) this.pump(s)
      },
      // freed-slot notices sent while the subscriber was away were missed: ask for every
      // waiting scope now rather than at its next poll
      (reconnected) => {
        if (reconnected) for (const s of this.#byKey.values()) if (s.waiting > 0) this.pump(s)
      },
    )
  }

  track(s: Scope): void {
    this.#byKey.set(s.key, s)
  }

  forget(s: Scope): void {
    if (this.#byKey.get(s.key) === s) this.#byKey.delete(s.key)
  }

  /** The lease time changed (a reload): renew on the new period. */
  leaseChanged(): void {
    if (this.#renewTimer === null) return
    clearInterval(this.#renewTimer)
    this.#renewTimer = null
    this.#armRenewal()
  }

  /** Asks Redis for a slot for a newcomer (nobody of its scope waits here). */
  ask(t: Ticket): AccessResult | Promise<AccessResult> {
    const { q, redis } = this
    if (!redis.available(t.arrivedAt)) return q.redisFailed(t)
    const s = t.scope
    const lease = this.#lease()
    // the scope stays in the map until the answer is in: a lease granted to it must be renewed
    s.asking++
    return new Promise<AccessResult>((resolve) => {
      t.resolve = resolve
      redis.acquire(s.key, [lease], q.limits.concurrency, q.limits.leaseMs, (granted) => {
        s.asking--
        if (t.state === DONE) {
          // the client left while Redis answered
          if (granted === 1) redis.release(s.key, [lease], q.limits.concurrency)
          q.settle(t, undefined)
          q.tidy(s)
          return
        }
        if (granted === null) return q.settle(t, q.redisFailed(t))
        if (granted === 1) {
          this.#hold(s, lease)
          q.admit(t, 'immediate', lease)
          return q.settle(t, undefined)
        }
        const refused = q.enqueue(t)
        if (refused !== null) q.settle(t, refused)
      })
    })
  }

  /** A slot this node held goes back to Redis. */
  release(s: Scope, lease: string): void {
    s.leases.delete(lease)
    this.redis.release(s.key, [lease], this.q.limits.concurrency)
  }

  /** Asks for as many slots as this scope has waiters (one call at a time). */
  pump(s: Scope): void {
    const { q, redis } = this
    if (s.pumping || s.waiting === 0) return
    if (!redis.available(performance.now())) return this.#pumpFailed(s)
    s.pumping = true
    const n = Math.min(s.waiting, q.limits.concurrency, BATCH)
    const ids: string[] = []
    for (let i = 0; i < n; i++) ids.push(this.#lease())
    const limit = q.limits.concurrency
    redis.acquire(s.key, ids, limit, q.limits.leaseMs, (granted) => {
      s.pumping = false
      if (granted === null) return this.#pumpFailed(s)
      for (let i = 0; i < granted; i++) {
        const next = q.dequeue(s)
        if (next === null) {
          // the waiters left meanwhile
          redis.release(s.key, ids.slice(i, granted), limit)
          break
        }
        this.#hold(s, ids[i]!)
        q.admit(next, 'waited', ids[i]!)
        q.settle(next, undefined)
      }
      if (s.waiting === 0) return q.tidy(s)
      // every slot asked for was free: there may be more
      if (granted === n) this.pump(s)
      else this.schedulePoll(s)
    })
  }

  /** Redis failed while requests wait: fault_tolerant lets them through, else they keep waiting. */
  #pumpFailed(s: Scope): void {
    const q = this.q
    if (!q.limits.faultTolerant) return this.schedulePoll(s)
    for (let t = q.dequeue(s); t !== null; t = q.dequeue(s)) {
      q.stats.failedOpen++
      if (t.timer !== null) clearTimeout(t.timer)
      t.timer = null
      t.state = HOLDING
      t.ctx.set(QUEUED, 'bypassed')
      q.settle(t, undefined)
    }
    q.tidy(s)
  }

  schedulePoll(s: Scope): void {
    if (s.poll !== null || s.waiting === 0) return
    s.poll = setTimeout(() => {
      s.poll = null
      this.pump(s)
    }, this.q.limits.pollMs)
  }

  #lease(): string {
    return `${this.#tag}:${++this.#seq}`
  }

  #hold(s: Scope, lease: string): void {
    s.held++
    s.leases.add(lease)
    this.#armRenewal()
  }

  #armRenewal(): void {
    if (this.#renewTimer !== null) return
    const every = Math.max(50, Math.floor(this.q.limits.leaseMs / 3))
    this.#renewTimer = setInterval(() => this.#renew(), every)
    this.#renewTimer.unref()
  }

  #renew(): void {
    let any = false
    for (const s of this.scopes.values()) {
      if (s.leases.size === 0) continue
      any = true
      this.redis.renew(s.key, [...s.leases], this.q.limits.leaseMs)
    }
    if (!any && this.#renewTimer !== null) {
      clearInterval(this.#renewTimer)
      this.#renewTimer = null
    }
  }

  close(): void {
    if (this.#renewTimer !== null) clearInterval(this.#renewTimer)
    this.#renewTimer = null
    this.redis.close()
  }
}

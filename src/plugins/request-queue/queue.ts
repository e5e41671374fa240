import { randomBytes } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import { ERRORS, errorBody } from '../../core/errors.js'
import type { AccessResult, Reply } from '../../core/plugin.js'
import type { RequestQueueStats } from '../../core/services.js'
import { BATCH, type SharedSlots } from './redis-slots.js'

/** What one queue needs of the config (updated in place when a reload keeps the queue). */
export interface QueueLimits {
  concurrency: number
  queueSize: number
  maxWaitMs: number
  leaseMs: number
  pollMs: number
  faultTolerant: boolean
  waitHeader: boolean
}

export type Outcome = 'immediate' | 'waited' | 'rejected' | 'timeout' | 'abandoned' | 'bypassed'

/** The ticket states: waiting for Redis's answer or in the FIFO, holding, finished. */
const ASKING = 0
const WAITING = 1
const HOLDING = 2
const DONE = 3

/** One request's place in a queue, from access to log phase. */
export class Ticket {
  state = ASKING
  /** redis policy: the lease this request holds ('' for a local slot or none) */
  lease = ''
  /** holds a slot (false when let through without one) */
  slot = false
  admittedAt = 0
  prev: Ticket | null = null
  next: Ticket | null = null
  resolve: ((r: AccessResult) => void) | null = null
  timer: NodeJS.Timeout | null = null

  constructor(
    readonly scope: Scope,
    readonly ctx: RequestContext,
    readonly arrivedAt: number,
  ) {}
}

/** The slots and waiters of one scope (a route, or a consumer) on this node. */
export class Scope {
  /** slots held by this node's requests */
  held = 0
  /** redis policy: the lease ids behind `held` */
  readonly leases = new Set<string>()
  head: Ticket | null = null
  tail: Ticket | null = null
  waiting = 0
  /** redis policy: newcomers whose Redis answer is on its way */
  asking = 0
  /** redis policy: a Redis call for waiters is in flight / the next poll */
  pumping = false
  poll: NodeJS.Timeout | null = null

  constructor(
    readonly id: string,
    /** redis policy: the sorted set's key */
    readonly key: string,
  ) {}

  push(t: Ticket): void {
    t.prev = this.tail
    t.next = null
    if (this.tail === null) this.head = t
    else this.tail.next = t
    this.tail = t
    this.waiting++
  }

  remove(t: Ticket): void {
    if (t.prev === null) this.head = t.next
    else t.prev.next = t.next
    if (t.next === null) this.tail = t.prev
    else t.next.prev = t.prev
    t.prev = t.next = null
    this.waiting--
  }

  shift(): Ticket | null {
    const t = this.head
    if (t !== null) this.remove(t)
    return t
  }
}

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * A concurrency limit with a bounded FIFO queue, per scope. On the local policy the slots are a
 * counter; on the redis policy they are leases in Redis (see {@link SharedSlots}), shared by
 * every node, with this node's waiters queued here.
 *
 * A slot freed on this node goes straight to the next waiter of the same scope (no Redis call);
 * a slot freed on another node reaches the waiters through a notice, or the poll every
 * `pollMs`. Held leases are renewed every third of `leaseMs`.
 *
 * Built once per plugin id and kept across reloads (in `services.shared`), so a new runtime
 * counts the slots the draining one still holds.
 *
 * @example
 *   const q = new RequestQueue(limits, stats, null)
 *   const r = q.enter(ctx, 'r:route-id', ticketKey)   // undefined: go upstream; a reply: refused; a promise: waiting
 *   q.finish(ctx, ticketKey)                           // log phase: gives the slot back
 */
export class RequestQueue {
  readonly scopes = new Map<string, Scope>()
  /** redis policy: scopes by their sorted set's key, for the freed-slot notices */
  readonly #byKey = new Map<string, Scope>()
  readonly #tag = randomBytes(6).toString('base64url')
  #seq = 0
  #renewTimer: NodeJS.Timeout | null = null
  /** ms a slot is held, smoothed: sizes Retry-After */
  #holdMs = 0
  refs = 0

  constructor(
    public limits: QueueLimits,
    readonly stats: RequestQueueStats,
    readonly redis: SharedSlots | null,
    /** the sorted set key of a scope id (redis policy) */
    readonly keyOf: (scope: string) => string = (s) => s,
  ) {}

  /** Applies new limits (a reload that kept this queue): more slots go to waiters at once. */
  configure(limits: QueueLimits): void {
    const leaseChanged = limits.leaseMs !== this.limits.leaseMs
    this.limits = limits
    if (leaseChanged && this.#renewTimer !== null) {
      clearInterval(this.#renewTimer)
      this.#renewTimer = null
      this.#armRenewal()
    }
    for (const s of this.scopes.values()) {
      if (this.redis === null) {
        while (s.waiting > 0 && s.held < limits.concurrency) {
          s.held++
          const t = this.#dequeue(s)!
          this.#admit(t, 'waited', '')
          this.#settle(t, undefined)
        }
      } else this.#pump(s)
    }
  }

  /** Subscribes to freed-slot notices (redis policy); called when the first instance uses it. */
  open(): void {
    this.redis?.listen((key) => {
      const s = this.#byKey.get(key)
      if (s !== undefined && s.waiting > 0) this.#pump(s)
    })
  }

  /**
   * The access phase: a slot now (undefined), a refusal (a reply), or a wait (a promise that
   * settles with one of those). The ticket is kept in `ctx.state[ticketKey]` for {@link finish}.
   */
  enter(ctx: RequestContext, scopeId: string, ticketKey: string): AccessResult | Promise<AccessResult> {
    let s = this.scopes.get(scopeId)
    if (s === undefined) {
      s = new Scope(scopeId, this.keyOf(scopeId))
      this.scopes.set(scopeId, s)
      if (this.redis !== null) this.#byKey.set(s.key, s)
    }
    const t = new Ticket(s, ctx, performance.now())
    ;(ctx.state ??= {})[ticketKey] = t
    if (s.waiting === 0) {
      if (this.redis === null) {
        if (s.held < this.limits.concurrency) {
          s.held++
          this.#admit(t, 'immediate', '')
          return undefined
        }
      } else return this.#ask(t)
    }
    return this.#wait(t)
  }

  /** Queues a newcomer: a promise that settles on admission or timeout, or a refusal. */
  #wait(t: Ticket): AccessResult | Promise<AccessResult> {
    const refused = this.#enqueue(t)
    if (refused !== null) return refused
    return new Promise<AccessResult>((resolve) => {
      t.resolve = resolve
    })
  }

  /** The log phase: gives the slot back, or leaves the queue when the client went away. */
  finish(ctx: RequestContext, ticketKey: string): void {
    const t = ctx.state?.[ticketKey] as Ticket | undefined
    if (t === undefined) return
    const prev = t.state
    if (prev === DONE) return
    t.state = DONE
    if (prev === HOLDING) {
      if (!t.slot) return
      this.stats.inFlight--
      const held = performance.now() - t.admittedAt
      this.#holdMs = this.#holdMs === 0 ? held : this.#holdMs * 0.8 + held * 0.2
      this.#release(t.scope, t.lease)
      return
    }
    // the client left before it got a slot
    this.stats.abandoned++
    ctx.queued = 'abandoned'
    if (prev === WAITING) {
      if (t.timer !== null) clearTimeout(t.timer)
      t.timer = null
      this.#unlink(t)
      // nothing goes upstream: the data plane does not proxy for a closed response
      this.#settle(t, undefined)
      this.#tidy(t.scope)
    }
    // ASKING: the answer from Redis finds the ticket DONE and gives a granted lease back
  }

  /** redis policy: ask Redis for a slot for a newcomer (nobody of its scope waits here). */
  #ask(t: Ticket): AccessResult | Promise<AccessResult> {
    const redis = this.redis!
    if (!redis.available(t.arrivedAt)) return this.#redisFailed(t)
    const s = t.scope
    const lease = this.#lease()
    // the scope stays in the map until the answer is in: a lease granted to it must be renewed
    s.asking++
    return new Promise<AccessResult>((resolve) => {
      t.resolve = resolve
      redis.acquire(s.key, [lease], this.limits.concurrency, this.limits.leaseMs, (granted) => {
        s.asking--
        if (t.state === DONE) {
          // the client left while Redis answered
          if (granted === 1) redis.release(s.key, [lease], this.limits.concurrency)
          this.#settle(t, undefined)
          this.#tidy(s)
          return
        }
        if (granted === null) return this.#settle(t, this.#redisFailed(t))
        if (granted === 1) {
          this.#hold(s, lease)
          this.#admit(t, 'immediate', lease)
          return this.#settle(t, undefined)
        }
        const refused = this.#enqueue(t)
        if (refused !== null) this.#settle(t, refused)
      })
    })
  }

  /** Joins the FIFO (null), or is refused when it is full (the reply). */
  #enqueue(t: Ticket): Reply | null {
    const s = t.scope
    if (s.waiting >= this.limits.queueSize) {
      t.state = DONE
      this.stats.rejectedFull++
      t.ctx.queued = 'rejected'
      this.#tidy(s)
      return this.#refusal(t.ctx, 'QUEUE_FULL', this.limits.queueSize)
    }
    t.state = WAITING
    s.push(t)
    this.stats.waiting++
    const left = Math.max(1, this.limits.maxWaitMs - (performance.now() - t.arrivedAt))
    t.timer = setTimeout(() => this.#timeout(t), left)
    if (this.redis !== null) this.#schedulePoll(s)
    return null
  }

  /** Takes the first waiter of a scope out of the FIFO. */
  #dequeue(s: Scope): Ticket | null {
    const t = s.shift()
    if (t !== null) this.stats.waiting--
    return t
  }

  /** Takes a waiter out of the FIFO wherever it is. */
  #unlink(t: Ticket): void {
    t.scope.remove(t)
    this.stats.waiting--
  }

  #timeout(t: Ticket): void {
    t.timer = null
    if (t.state !== WAITING) return
    t.state = DONE
    const s = t.scope
    this.#unlink(t)
    this.stats.rejectedTimeout++
    t.ctx.queued = 'timeout'
    this.#settle(t, this.#refusal(t.ctx, 'QUEUE_TIMEOUT', s.waiting))
    this.#tidy(s)
  }

  /**
   * A slot is free on this node: the next waiter of its scope takes it, else it goes back (as
   * it does when a reload lowered the concurrency below what this node holds).
   */
  #release(s: Scope, lease: string): void {
    const next = s.held <= this.limits.concurrency ? this.#dequeue(s) : null
    if (next !== null) {
      this.#admit(next, 'waited', lease)
      this.#settle(next, undefined)
      return
    }
    s.held--
    if (this.redis !== null) {
      s.leases.delete(lease)
      this.redis.release(s.key, [lease], this.limits.concurrency)
    }
    this.#tidy(s)
  }

  #admit(t: Ticket, outcome: Outcome, lease: string): void {
    if (t.timer !== null) clearTimeout(t.timer)
    t.timer = null
    t.state = HOLDING
    t.slot = true
    t.lease = lease
    t.admittedAt = performance.now()
    this.stats.inFlight++
    if (outcome === 'immediate') this.stats.admitted++
    else this.stats.dequeued++
    t.ctx.queued = outcome
    if (this.limits.waitHeader) {
      t.ctx.addResponseHeader('x-queue-wait-ms', String(Math.round(t.admittedAt - t.arrivedAt)))
    }
  }

  #settle(t: Ticket, r: AccessResult): void {
    const resolve = t.resolve
    t.resolve = null
    resolve?.(r)
  }

  /** Redis failed for this ticket: through without a slot (fault_tolerant) or 500. */
  #redisFailed(t: Ticket): AccessResult {
    t.state = DONE
    this.#tidy(t.scope)
    if (this.limits.faultTolerant) {
      this.stats.failedOpen++
      t.state = HOLDING
      t.ctx.queued = 'bypassed'
      return undefined
    }
    this.stats.failedClosed++
    return {
      status: ERRORS.INTERNAL.status,
      headers: { 'content-type': JSON_TYPE },
      body: errorBody(ERRORS.INTERNAL.message, t.ctx.id),
    }
  }

  /** A 503 with Retry-After: about how long `ahead` requests take over the slots, in seconds. */
  #refusal(ctx: RequestContext, code: 'QUEUE_FULL' | 'QUEUE_TIMEOUT', ahead: number): Reply {
    const { concurrency, maxWaitMs } = this.limits
    const cap = Math.max(1, Math.ceil(maxWaitMs / 1000))
    const estimate = Math.ceil((this.#holdMs * (ahead + 1)) / concurrency / 1000)
    const retry = Math.min(cap, Math.max(1, estimate))
    return {
      status: ERRORS[code].status,
      headers: { 'content-type': JSON_TYPE, 'retry-after': String(retry) },
      body: errorBody(ERRORS[code].message, ctx.id),
    }
  }

  #lease(): string {
    return `${this.#tag}:${++this.#seq}`
  }

  #hold(s: Scope, lease: string): void {
    s.held++
    s.leases.add(lease)
    this.#armRenewal()
  }

  /** redis policy: asks for as many slots as this scope has waiters (one call at a time). */
  #pump(s: Scope): void {
    const redis = this.redis!
    if (s.pumping || s.waiting === 0) return
    if (!redis.available(performance.now())) return this.#pumpFailed(s)
    s.pumping = true
    const n = Math.min(s.waiting, this.limits.concurrency, BATCH)
    const ids: string[] = []
    for (let i = 0; i < n; i++) ids.push(this.#lease())
    const limit = this.limits.concurrency
    redis.acquire(s.key, ids, limit, this.limits.leaseMs, (granted) => {
      s.pumping = false
      if (granted === null) return this.#pumpFailed(s)
      for (let i = 0; i < granted; i++) {
        const next = this.#dequeue(s)
        if (next === null) {
          // the waiters left meanwhile
          redis.release(s.key, ids.slice(i, granted), limit)
          break
        }
        this.#hold(s, ids[i]!)
        this.#admit(next, 'waited', ids[i]!)
        this.#settle(next, undefined)
      }
      if (s.waiting === 0) return this.#tidy(s)
      // every slot asked for was free: there may be more
      if (granted === n) this.#pump(s)
      else this.#schedulePoll(s)
    })
  }

  /** Redis failed while requests wait: fault_tolerant lets them through, else they keep waiting. */
  #pumpFailed(s: Scope): void {
    if (!this.limits.faultTolerant) return this.#schedulePoll(s)
    for (let t = this.#dequeue(s); t !== null; t = this.#dequeue(s)) {
      this.stats.failedOpen++
      if (t.timer !== null) clearTimeout(t.timer)
      t.timer = null
      t.state = HOLDING
      t.ctx.queued = 'bypassed'
      this.#settle(t, undefined)
    }
    this.#tidy(s)
  }

  #schedulePoll(s: Scope): void {
    if (s.poll !== null || s.waiting === 0) return
    s.poll = setTimeout(() => {
      s.poll = null
      this.#pump(s)
    }, this.limits.pollMs)
  }

  /** Forgets a scope nobody holds or waits for (per-consumer scopes come and go). */
  #tidy(s: Scope): void {
    if (s.held > 0 || s.waiting > 0 || s.pumping || s.asking > 0) return
    if (s.poll !== null) clearTimeout(s.poll)
    s.poll = null
    // no Redis answer can be on its way for it: asks and pumps in flight keep a scope
    if (this.scopes.get(s.id) === s) this.scopes.delete(s.id)
    if (this.#byKey.get(s.key) === s) this.#byKey.delete(s.key)
  }

  #armRenewal(): void {
    if (this.#renewTimer !== null) return
    this.#renewTimer = setInterval(() => this.#renew(), Math.max(50, Math.floor(this.limits.leaseMs / 3)))
    this.#renewTimer.unref()
  }

  #renew(): void {
    let any = false
    for (const s of this.scopes.values()) {
      if (s.leases.size === 0) continue
      any = true
      this.redis!.renew(s.key, [...s.leases], this.limits.leaseMs)
    }
    if (!any && this.#renewTimer !== null) {
      clearInterval(this.#renewTimer)
      this.#renewTimer = null
    }
  }

  /** The last instance using this queue closed: stop timers, answer anyone still waiting. */
  close(): void {
    if (this.#renewTimer !== null) clearInterval(this.#renewTimer)
    this.#renewTimer = null
    for (const s of this.scopes.values()) {
      if (s.poll !== null) clearTimeout(s.poll)
      s.poll = null
      const waiting: Ticket[] = []
      for (let t = s.head; t !== null; t = t.next) waiting.push(t)
      for (const t of waiting) {
        if (t.timer !== null) clearTimeout(t.timer)
        this.#timeout(t)
      }
    }
    this.redis?.close()
  }
}

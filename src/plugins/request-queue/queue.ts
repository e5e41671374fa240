import type { RequestContext } from '../../core/context.js'
import { reply } from '../../core/errors.js'
import type { AccessResult, Reply } from '../../core/plugin.js'
import { slot } from '../../core/slot.js'
import type { SlotStore } from './redis-slots.js'
import { SharedSlots, type Waiters } from './shared-slots.js'
import { type Outcome, QUEUED, type RequestQueueStats } from './stats.js'
import { DONE, HOLDING, Scope, Ticket, WAITING } from './ticket.js'

export type { Outcome } from './stats.js'

/**
 * The request's tickets, one per request-queue instance that let it in (instances with distinct
 * `instance_name`s compose on one route), linked through `other`: no allocation beyond the ticket.
 */
const TICKETS = slot<Ticket | null>('request-queue.tickets', null)

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

/**
 * A concurrency limit with a bounded FIFO queue, per scope. On the local policy the slots are a
 * counter; on the redis policy they are leases in Redis (see {@link LeaseStore}), shared by
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
export class RequestQueue implements Waiters {
  readonly scopes = new Map<string, Scope>()
  /** redis policy: the steps that ask Redis for slots (null on the local policy) */
  readonly shared: SharedSlots | null
  /** ms a slot is held, smoothed: sizes Retry-After */
  #holdMs = 0
  refs = 0

  constructor(
    public limits: QueueLimits,
    readonly stats: RequestQueueStats,
    redis: SlotStore | null,
    /** the sorted set key of a scope id (redis policy) */
    readonly keyOf: (scope: string) => string = (s) => s,
  ) {
    this.shared = redis === null ? null : new SharedSlots(this, redis, this.scopes)
  }

  /** Applies new limits (a reload that kept this queue): more slots go to waiters at once. */
  configure(limits: QueueLimits): void {
    const leaseChanged = limits.leaseMs !== this.limits.leaseMs
    this.limits = limits
    const shared = this.shared
    if (leaseChanged) shared?.leaseChanged()
    for (const s of this.scopes.values()) {
      if (shared === null) {
        while (s.waiting > 0 && s.held < limits.concurrency) {
          s.held++
          const t = this.dequeue(s)!
          this.admit(t, 'waited', '')
          this.settle(t, undefined)
        }
      } else shared.pump(s)
    }
  }

  /** Subscribes to freed-slot notices (redis policy); called when the first instance uses it. */
  open(): void {
    this.shared?.listen()
  }

  /**
   * The access phase: a slot now (undefined), a refusal (a reply), or a wait (a promise that
   * settles with one of those). The ticket is kept on the request (its slot, under `ticketKey`) for {@link finish}.
   */
  enter(ctx: RequestContext, scopeId: string, ticketKey: string): AccessResult | Promise<AccessResult> {
    let s = this.scopes.get(scopeId)
    if (s === undefined) {
      s = new Scope(scopeId, this.keyOf(scopeId))
      this.scopes.set(scopeId, s)
      this.shared?.track(s)
    }
    const t = new Ticket(s, ctx, performance.now())
    t.owner = ticketKey
    t.other = ctx.get(TICKETS)
    ctx.set(TICKETS, t)
    if (s.waiting === 0) {
      if (this.shared !== null) return this.shared.ask(t)
      if (s.held < this.limits.concurrency) {
        s.held++
        this.admit(t, 'immediate', '')
        return undefined
      }
    }
    return this.#wait(t)
  }

  /** Queues a newcomer: a promise that settles on admission or timeout, or a refusal. */
  #wait(t: Ticket): AccessResult | Promise<AccessResult> {
    const refused = this.enqueue(t)
    if (refused !== null) return refused
    return new Promise<AccessResult>((resolve) => {
      t.resolve = resolve
    })
  }

  /** The log phase: gives the slot back, or leaves the queue when the client went away. */
  finish(ctx: RequestContext, ticketKey: string): void {
    let t = ctx.get(TICKETS)
    while (t !== null && t.owner !== ticketKey) t = t.other
    if (t === null) return
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
    ctx.set(QUEUED, 'abandoned')
    if (prev === WAITING) {
      if (t.timer !== null) clearTimeout(t.timer)
      t.timer = null
      this.#unlink(t)
      // nothing goes upstream: the data plane does not proxy for a closed response
      this.settle(t, undefined)
      this.tidy(t.scope)
    }
    // ASKING: the answer from Redis finds the ticket DONE and gives a granted lease back
  }

  /** Joins the FIFO (null), or is refused when it is full (the reply). */
  enqueue(t: Ticket): Reply | null {
    const s = t.scope
    if (s.waiting >= this.limits.queueSize) {
      t.state = DONE
      this.stats.rejectedFull++
      t.ctx.set(QUEUED, 'rejected')
      this.tidy(s)
      return this.#refusal(t.ctx, 'QUEUE_FULL', this.limits.queueSize)
    }
    t.state = WAITING
    s.push(t)
    this.stats.waiting++
    const left = Math.max(1, this.limits.maxWaitMs - (performance.now() - t.arrivedAt))
    t.timer = setTimeout(() => this.#timeout(t), left)
    this.shared?.schedulePoll(s)
    return null
  }

  /** Takes the first waiter of a scope out of the FIFO. */
  dequeue(s: Scope): Ticket | null {
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
    t.ctx.set(QUEUED, 'timeout')
    this.settle(t, this.#refusal(t.ctx, 'QUEUE_TIMEOUT', s.waiting))
    this.tidy(s)
  }

  /**
   * A slot is free on this node: the next waiter of its scope takes it, else it goes back (as
   * it does when a reload lowered the concurrency below what this node holds).
   */
  #release(s: Scope, lease: string): void {
    const next = s.held <= this.limits.concurrency ? this.dequeue(s) : null
    if (next !== null) {
      this.admit(next, 'waited', lease)
      this.settle(next, undefined)
      return
    }
    s.held--
    this.shared?.release(s, lease)
    this.tidy(s)
  }

  admit(t: Ticket, outcome: Outcome, lease: string): void {
    if (t.timer !== null) clearTimeout(t.timer)
    t.timer = null
    t.state = HOLDING
    t.slot = true
    t.lease = lease
    t.admittedAt = performance.now()
    this.stats.inFlight++
    if (outcome === 'immediate') this.stats.admitted++
    else this.stats.dequeued++
    t.ctx.set(QUEUED, outcome)
    if (this.limits.waitHeader) {
      t.ctx.addResponseHeader('x-queue-wait-ms', String(Math.round(t.admittedAt - t.arrivedAt)))
    }
  }

  settle(t: Ticket, r: AccessResult): void {
    const resolve = t.resolve
    t.resolve = null
    resolve?.(r)
  }

  /** Redis failed for this ticket: through without a slot (fault_tolerant) or 500. */
  redisFailed(t: Ticket): AccessResult {
    t.state = DONE
    this.tidy(t.scope)
    if (this.limits.faultTolerant) {
      this.stats.failedOpen++
      t.state = HOLDING
      t.ctx.set(QUEUED, 'bypassed')
      return undefined
    }
    this.stats.failedClosed++
    return reply(t.ctx, 'INTERNAL')
  }

  /** A 503 with Retry-After: about how long `ahead` requests take over the slots, in seconds. */
  #refusal(ctx: RequestContext, code: 'QUEUE_FULL' | 'QUEUE_TIMEOUT', ahead: number): Reply {
    const { concurrency, maxWaitMs } = this.limits
    const cap = Math.max(1, Math.ceil(maxWaitMs / 1000))
    const estimate = Math.ceil((this.#holdMs * (ahead + 1)) / concurrency / 1000)
    const retry = Math.min(cap, Math.max(1, estimate))
    return reply(ctx, code, { headers: { 'retry-after': String(retry) } })
  }

  /** Forgets a scope nobody holds or waits for (per-consumer scopes come and go). */
  tidy(s: Scope): void {
    if (s.held > 0 || s.waiting > 0 || s.pumping || s.asking > 0) return
    if (s.poll !== null) clearTimeout(s.poll)
    s.poll = null
    // no Redis answer can be on its way for it: asks and pumps in flight keep a scope
    if (this.scopes.get(s.id) === s) this.scopes.delete(s.id)
    this.shared?.forget(s)
  }

  /** The last instance using this queue closed: stop timers, answer anyone still waiting. */
  close(): void {
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
    this.shared?.close()
  }
}

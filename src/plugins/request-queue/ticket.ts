import type { RequestContext } from '../../core/context.js'
import type { AccessResult } from '../../core/plugin.js'

export type { Outcome } from './stats.js'

/** The ticket states: waiting for Redis's answer or in the FIFO, holding, finished. */
export const ASKING = 0
export const WAITING = 1
export const HOLDING = 2
export const DONE = 3

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
  /** the instance that issued it (its ticket key), and the request's ticket of another instance */
  owner = ''
  other: Ticket | null = null

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

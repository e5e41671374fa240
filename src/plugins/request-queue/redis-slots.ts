import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../../core/logger.js'
import type { RedisConnection } from '../../core/services.js'
import { BREAK_MS, breakerFor, type RedisBreaker } from '../kit/redis/breaker.js'
import { DeadlineQueue, type Pending } from '../kit/redis/deadline.js'
import { ACQUIRE_LUA, RELEASE_LUA, RENEW_LUA } from './lua.js'

/** Most lease ids in one script call (Lua's unpack has a stack limit). */
export const BATCH = 512

type Client = Redis | Cluster
type Callback = (err: Error | null, res: unknown) => void
interface Scripts {
  porticoQueueAcquire(key: string, ...args: Array<string | number | Callback>): unknown
  porticoQueueRelease(key: string, ...args: Array<string | number | Callback>): unknown
  porticoQueueRenew(key: string, ...args: Array<string | number | Callback>): unknown
}

/** Defines the scripts once per client (ioredis then calls them by SHA, EVAL only on NOSCRIPT). */
function scriptsOf(client: Client): Scripts {
  const c = client as unknown as Partial<Scripts>
  if (typeof c.porticoQueueAcquire !== 'function') {
    client.defineCommand('porticoQueueAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA })
    client.defineCommand('porticoQueueRelease', { numberOfKeys: 1, lua: RELEASE_LUA })
    client.defineCommand('porticoQueueRenew', { numberOfKeys: 1, lua: RENEW_LUA })
  }
  return c as Scripts
}

/**
 * One subscriber connection per Redis client, shared by every queue on it: the channel carries
 * the key of a set that had a slot freed while it was full.
 */
class Notices {
  readonly #sub: Client
  readonly listeners = new Set<(key: string) => void>()

  constructor(client: Client, channel: string) {
    // a subscriber may queue SUBSCRIBE until it is connected (and re-subscribes on reconnect)
    const sub: Client =
      'nodes' in client
        ? client.duplicate(undefined, { enableOfflineQueue: true })
        : client.duplicate({ enableOfflineQueue: true })
    sub.on('error', () => {})
    sub.on('message', (_channel: string, key: string) => {
      for (const l of this.listeners) l(key)
    })
    sub.subscribe(channel).catch(() => {})
    this.#sub = sub
  }

  close(): void {
    this.#sub.disconnect()
  }
}
const notices = new WeakMap<Client, Map<string, Notices>>()

class Call implements Pending {
  done = false
  constructor(
    readonly at: number,
    readonly owner: RedisSlots,
    readonly reply: (granted: number | null) => void,
    /** runs when Redis answers after the deadline: gives back what it granted too late */
    readonly late: ((granted: number) => void) | null,
  ) {}

  expire(): void {
    this.owner.timedOut()
    this.reply(null)
  }

  readonly settle = (err: Error | null, res: unknown): void => {
    if (this.done) {
      if (err === null && this.late !== null && Number(res) > 0) this.late(Number(res))
      return
    }
    this.done = true
    if (err !== null) {
      this.owner.failed(err)
      this.reply(null)
    } else {
      this.owner.succeeded()
      this.reply(Number(res))
    }
  }
}

/**
 * The redis policy's slots: acquire, release and renew leases in one sorted set per scope (see
 * lua.ts), each call raced against the Redis deadline. A Redis that is disconnected fails at
 * once (no offline queue); one that stalls costs at most the deadline, then the breaker skips it
 * for {@link BREAK_MS}. A grant that arrives after its deadline is given back at once.
 *
 * @example
 *   slots.acquire('portico:rq:{id:r:route}', ['n1:1'], 4, 10_000, (granted) => …)
 */
export class RedisSlots {
  readonly #client: Client
  readonly #scripts: Scripts
  readonly #breaker: RedisBreaker
  readonly #deadlines = new DeadlineQueue()
  readonly channel: string
  #notices: Notices | null = null
  #listener: ((key: string) => void) | null = null

  constructor(
    readonly conn: RedisConnection,
    readonly deadlineMs: number,
    keyPrefix: string,
    readonly log: Logger,
    readonly onError: (timeout: boolean) => void,
  ) {
    this.#client = conn.client
    this.#scripts = scriptsOf(conn.client)
    this.#breaker = breakerFor(conn.client, 'request-queue', 'the shared limit applies', log)
    this.channel = `${keyPrefix}request-queue:released`
  }

  /** Listens for freed slots (one shared subscriber per client and channel). */
  listen(listener: (key: string) => void): void {
    if (this.#listener !== null) return
    let byChannel = notices.get(this.#client)
    if (byChannel === undefined) notices.set(this.#client, (byChannel = new Map()))
    let n = byChannel.get(this.channel)
    if (n === undefined) byChannel.set(this.channel, (n = new Notices(this.#client, this.channel)))
    n.listeners.add(listener)
    this.#notices = n
    this.#listener = listener
  }

  /** False while Redis is down or the breaker is open: the caller fails without a call. */
  available(now: number): boolean {
    return this.#breaker.available(this.conn, now, this.#skipped)
  }

  readonly #skipped = (): void => this.onError(false)

  /**
   * Takes as many of `ids.length` slots as are free; `reply` gets how many (the first ones of
   * `ids`), or null after an error or the deadline.
   */
  acquire(
    key: string,
    ids: readonly string[],
    limit: number,
    leaseMs: number,
    reply: (granted: number | null) => void,
  ): void {
    const call = new Call(performance.now() + this.deadlineMs, this, reply, (granted) =>
      this.release(key, ids.slice(0, granted), limit),
    )
    this.#deadlines.add(call)
    this.conn.coalesce()
    this.#scripts.porticoQueueAcquire(key, limit, leaseMs, ...ids, call.settle)
  }

  /** Gives slots back; fire and forget (a release that fails leaves a lease that expires). */
  release(key: string, ids: readonly string[], limit: number): void {
    if (!this.conn.ready || ids.length === 0) return
    this.conn.coalesce()
    this.#scripts.porticoQueueRelease(key, this.channel, limit, ...ids, (err: Error | null) => {
      if (err !== null) this.#breaker.markFailing(err.message)
    })
  }

  /** Extends leases still in use; fire and forget (the next renewal retries). */
  renew(key: string, ids: readonly string[], leaseMs: number): void {
    if (!this.conn.ready) return
    for (let i = 0; i < ids.length; i += BATCH) {
      this.#scripts.porticoQueueRenew(key, leaseMs, ...ids.slice(i, i + BATCH), (err: Error | null) => {
        if (err !== null) this.#breaker.markFailing(err.message)
      })
    }
  }

  timedOut(): void {
    this.onError(true)
    this.#breaker.open(`Redis did not answer within ${this.deadlineMs} ms`)
  }

  failed(err: Error): void {
    this.onError(false)
    this.#breaker.open(err.message)
  }

  succeeded(): void {
    this.#breaker.succeeded()
  }

  /** Stops listening and drops pending deadlines (the owner is closing). */
  close(): void {
    this.#deadlines.clear()
    const n = this.#notices
    const l = this.#listener
    this.#notices = null
    this.#listener = null
    if (n === null || l === null) return
    n.listeners.delete(l)
    if (n.listeners.size === 0) {
      n.close()
      notices.get(this.#client)?.delete(this.channel)
    }
  }
}

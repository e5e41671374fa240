import type { RedisCallOptions, RedisConnection, RedisScript } from '../../core/services.js'
import { ACQUIRE_LUA, RELEASE_LUA, RENEW_LUA } from './lua.js'

/** Most lease ids in one script call (Lua's unpack has a stack limit). */
export const BATCH = 512

function isDeadline(err: Error): boolean {
  return (err as { code?: string }).code === 'PORTICO_REDIS_DEADLINE'
}

/**
 * Where a queue's slots are counted beyond this process: Redis ({@link LeaseStore}), or the
 * node's primary on a node with workers (`node-slots.ts`). Same calls, same lease semantics.
 */
export type SlotStore = Pick<LeaseStore, 'listen' | 'available' | 'acquire' | 'release' | 'renew' | 'close'>

/**
 * The redis policy's slots: acquire, release and renew leases in one sorted set per scope (see
 * lua.ts). The Redis layer races each call against the deadline and keeps the connection's
 * breaker: a disconnected Redis fails at once (no offline queue); one that stalls costs at most
 * the deadline. A grant that arrives after its deadline is given back at once.
 *
 * @example
 *   slots.acquire('portico:rq:{id:r:route}', ['n1:1'], 4, 10_000, (granted) => …)
 */
export class LeaseStore {
  readonly #acquire: RedisScript<number>
  readonly #release: RedisScript<number>
  readonly #renew: RedisScript<number>
  readonly #options: RedisCallOptions
  readonly channel: string
  #unsubscribe: (() => void) | null = null

  constructor(
    readonly conn: RedisConnection,
    readonly deadlineMs: number,
    keyPrefix: string,
    readonly onError: (timeout: boolean) => void,
  ) {
    this.#acquire = conn.script('queue-acquire', ACQUIRE_LUA, 1)
    this.#release = conn.script('queue-release', RELEASE_LUA, 1)
    this.#renew = conn.script('queue-renew', RENEW_LUA, 1)
    this.#options = { deadlineMs }
    this.channel = `${keyPrefix}request-queue:released`
  }

  /** Listens for freed slots (the channel carries the key of a set that had a slot freed while full). */
  listen(listener: (key: string) => void, resync?: (reconnected: boolean) => void): void {
    if (this.#unsubscribe !== null) return
    this.#unsubscribe = this.conn.listen(this.channel, listener, resync)
  }

  /** False while Redis is down or the breaker is open: the caller fails without a call. */
  available(_now: number): boolean {
    if (this.conn.available()) return true
    this.onError(false)
    return false
  }

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
    this.#acquire.send(
      [key, limit, leaseMs, ...ids],
      this.#options,
      (err, res) => {
        if (err === null) return reply(Number(res))
        this.onError(isDeadline(err))
        reply(null)
      },
      (granted) => {
        if (Number(granted) > 0) this.release(key, ids.slice(0, Number(granted)), limit)
      },
    )
  }

  /** Gives slots back; fire and forget (a release that fails leaves a lease that expires). */
  release(key: string, ids: readonly string[], limit: number): void {
    if (!this.conn.ready || ids.length === 0) return
    this.#release.send([key, limit, ...ids], { ...this.#options, background: true }, (err, notify) => {
      if (err === null && notify === 1) this.conn.publish(this.channel, key).catch(() => {})
    })
  }

  /** Extends leases still in use; fire and forget (the next renewal retries). */
  renew(key: string, ids: readonly string[], leaseMs: number): void {
    if (!this.conn.ready) return
    for (let i = 0; i < ids.length; i += BATCH) {
      this.#renew.send(
        [key, leaseMs, ...ids.slice(i, i + BATCH)],
        { ...this.#options, background: true },
        () => {},
      )
    }
  }

  /** Stops listening (the owner is closing). */
  close(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }
}

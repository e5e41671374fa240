import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../../core/logger.js'
import type { RedisConnection } from '../../core/services.js'
import { BREAK_MS, breakerFor, type RedisBreaker } from '../kit/redis/breaker.js'
import { DeadlineQueue, type Pending } from '../kit/redis/deadline.js'
import type { Algorithm, Limit } from './algorithms.js'
import { RATE_LIMIT_LUA } from './lua.js'
import type { RateLimitingStats } from './stats.js'

type Client = Redis | Cluster
type ScriptFn = (...args: unknown[]) => unknown

/** Defines the script once per client (ioredis then calls it by SHA, EVAL only on NOSCRIPT). */
function scriptOf(client: Client): ScriptFn {
  const c = client as unknown as Record<string, ScriptFn | undefined>
  if (typeof c.porticoRateLimit !== 'function') {
    client.defineCommand('porticoRateLimit', { numberOfKeys: 1, lua: RATE_LIMIT_LUA })
  }
  return c.porticoRateLimit as ScriptFn
}

/** What a check resolves with: the verdict (see `Verdict`), or null when the store failed. */
export type Reply = (verdict: number[] | null) => void

class Call implements Pending {
  done = false
  constructor(
    readonly at: number,
    readonly owner: RedisLimiter,
    readonly reply: Reply,
  ) {}

  expire(): void {
    this.owner.timedOut()
    this.reply(null)
  }

  readonly settle = (err: Error | null, res: unknown): void => {
    if (this.done) return
    this.done = true
    if (err !== null) {
      this.owner.failed(err)
      this.reply(null)
    } else {
      this.owner.succeeded()
      this.reply(res as number[])
    }
  }
}

/**
 * The `redis` policy: one script call per request (all windows, one round trip), raced against
 * the deadline. A Redis that is disconnected fails at once (no offline queue); one that stalls
 * costs at most the deadline, then the breaker skips it for {@link BREAK_MS} so requests stop
 * waiting and commands stop piling up; the next call after that probes it. ioredis reconnects
 * within 2 s, so a Redis that comes back is used again within about 2 s.
 *
 * @example
 *   limiter.check('portico:rl:{id:i:10.0.0.1}', (v) => (v === null ? failOpen() : decide(v)))
 */
export class RedisLimiter {
  readonly #client: Client
  readonly #fn: ScriptFn
  readonly #breaker: RedisBreaker
  readonly #deadlines = new DeadlineQueue()
  /** `[key, algo, n, mode, now, …per window]`, copied per call with the key filled in */
  readonly #consumeArgs: unknown[]
  readonly #refundArgs: unknown[]

  constructor(
    readonly conn: RedisConnection,
    algo: Algorithm,
    limits: readonly Limit[],
    readonly deadlineMs: number,
    readonly stats: RateLimitingStats,
    readonly log: Logger,
  ) {
    this.#client = conn.client
    this.#fn = scriptOf(conn.client)
    this.#breaker = breakerFor(conn.client, 'rate-limiting', 'limits apply', log)
    const perWindow = limits.flatMap((l) => [l.code, l.size, l.limit, l.capacity, l.interval])
    this.#consumeArgs = ['', algo, limits.length, 1, 0, ...perWindow]
    this.#refundArgs = ['', algo, limits.length, 2, 0, ...perWindow]
  }

  /** False while Redis is down or the breaker is open: the caller fails without a call. */
  available(now: number): boolean {
    return this.#breaker.available(this.conn, now, this.#skipped)
  }

  readonly #skipped = (): void => {
    this.stats.errors++
  }

  /** One script call for `key`; `reply` gets the verdict, or null after an error or the deadline. */
  check(key: string, now: number, reply: Reply): void {
    const call = new Call(now + this.deadlineMs, this, reply)
    this.#deadlines.add(call)
    const args = this.#consumeArgs.slice()
    args[0] = key
    args.push(call.settle)
    this.conn.coalesce()
    this.#fn.apply(this.#client, args)
  }

  /** Gives back one request (a later instance refused it); fire and forget, errors ignored. */
  refund(key: string): void {
    if (!this.conn.ready) return
    const args = this.#refundArgs.slice()
    args[0] = key
    args.push(() => {})
    this.#fn.apply(this.#client, args)
  }

  timedOut(): void {
    this.stats.timeouts++
    this.#breaker.open(`Redis did not answer within ${this.deadlineMs} ms`)
  }

  failed(err: Error): void {
    this.stats.errors++
    this.#breaker.open(err.message)
  }

  succeeded(): void {
    this.#breaker.succeeded()
  }

  close(): void {
    this.#deadlines.clear()
  }
}

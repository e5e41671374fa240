import type { RedisArg, RedisCallOptions, RedisConnection, RedisScript } from '../../core/services.js'
import type { Algorithm, Limit } from './algorithms.js'
import { RATE_LIMIT_LUA } from './lua.js'
import type { RateLimitingStats } from './stats.js'

/** What a check resolves with: the verdict (see `Verdict`), or null when the store failed. */
export type Reply = (verdict: number[] | null) => void

/** True when the error is a missed deadline (the Redis layer's code for it). */
export function isDeadline(err: Error): boolean {
  return (err as { code?: string }).code === 'PORTICO_REDIS_DEADLINE'
}

/**
 * The `redis` policy: one script call per request (all windows, one round trip). The Redis
 * layer races it against the deadline and keeps the connection's breaker: a disconnected Redis
 * fails at once (no offline queue); one that stalls costs at most the deadline, then calls fail
 * at once for a short while and the next one probes.
 *
 * @example
 *   limiter.check('portico:rl:{id:i:10.0.0.1}', (v) => (v === null ? failOpen() : decide(v)))
 */
export class SharedLimiter {
  readonly #script: RedisScript<number[]>
  readonly #options: RedisCallOptions
  /** `[key, algo, n, mode, now, …per window]`, copied per call with the key filled in */
  readonly #consumeArgs: RedisArg[]
  readonly #refundArgs: RedisArg[]

  constructor(
    readonly conn: RedisConnection,
    algo: Algorithm,
    limits: readonly Limit[],
    readonly deadlineMs: number,
    readonly stats: RateLimitingStats,
  ) {
    this.#script = conn.script<number[]>('rate-limit', RATE_LIMIT_LUA, 1)
    this.#options = { deadlineMs }
    const perWindow = limits.flatMap((l) => [l.code, l.size, l.limit, l.capacity, l.interval])
    this.#consumeArgs = ['', algo, limits.length, 1, 0, ...perWindow]
    this.#refundArgs = ['', algo, limits.length, 2, 0, ...perWindow]
  }

  /** False while Redis is down or the breaker is open: the caller fails without a call. */
  available(): boolean {
    if (this.conn.available()) return true
    this.stats.errors++
    return false
  }

  /** One script call for `key`; `reply` gets the verdict, or null after an error or the deadline. */
  check(key: string, reply: Reply): void {
    const args = this.#consumeArgs.slice()
    args[0] = key
    this.#script.send(args, this.#options, (err, res) => {
      if (err === null) return reply(res as number[])
      if (isDeadline(err)) this.stats.timeouts++
      else this.stats.errors++
      reply(null)
    })
  }

  /** Gives back one request (a later instance refused it); fire and forget, errors ignored. */
  refund(key: string): void {
    if (!this.conn.ready) return
    const args = this.#refundArgs.slice()
    args[0] = key
    this.#script.send(args, this.#options, () => {})
  }
}

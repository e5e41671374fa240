import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../../../core/logger.js'
import type { RedisConnection } from '../../../core/services.js'

/** After a call fails or misses its deadline, skip Redis for this long before probing it again. */
export const BREAK_MS = 250

type Client = Redis | Cluster

/**
 * A plugin's view of one Redis connection's health, shared by every instance of that plugin on
 * the connection (and across reloads): a breaker. Open (`openUntil` > 0): calls are skipped
 * until then; after that one call probes while the others keep skipping, and its outcome closes
 * or re-opens the breaker. The first failure and the recovery are logged once each.
 *
 * @example
 *   const breaker = breakerFor(conn.client, 'rate-limiting', 'limits apply', log)
 *   if (!breaker.available(conn, performance.now(), () => stats.errors++)) return failOpen()
 */
export class RedisBreaker {
  openUntil = 0
  probing = false
  failing = false

  constructor(
    /** the plugin's name, first word of its log lines */
    readonly plugin: string,
    /** what holds again once Redis answers ("limits apply") */
    readonly recovered: string,
    readonly log: Logger,
  ) {}

  /** False while Redis is down or the breaker is open (`skipped` is called): the caller fails without a call. */
  available(conn: RedisConnection, now: number, skipped: () => void): boolean {
    if (!conn.ready) {
      skipped()
      this.markFailing('Redis is not connected')
      return false
    }
    if (this.openUntil !== 0) {
      if (now < this.openUntil || this.probing) {
        skipped()
        return false
      }
      this.probing = true
    }
    return true
  }

  /** A call failed or missed its deadline: skip Redis for {@link BREAK_MS}. */
  open(reason: string): void {
    this.openUntil = performance.now() + BREAK_MS
    this.probing = false
    this.markFailing(reason)
  }

  succeeded(): void {
    this.openUntil = 0
    this.probing = false
    if (this.failing) {
      this.failing = false
      this.log.warn(`${this.plugin}: Redis answers again; ${this.recovered}`)
    }
  }

  markFailing(reason: string): void {
    if (this.failing) return
    this.failing = true
    this.log.warn({ reason }, `${this.plugin}: Redis is failing; the failure mode applies`)
  }
}

const breakers = new WeakMap<Client, Map<string, RedisBreaker>>()

/** The breaker of `plugin` on `client`, created on first use. */
export function breakerFor(client: Client, plugin: string, recovered: string, log: Logger): RedisBreaker {
  let byPlugin = breakers.get(client)
  if (byPlugin === undefined) breakers.set(client, (byPlugin = new Map()))
  let b = byPlugin.get(plugin)
  if (b === undefined) byPlugin.set(plugin, (b = new RedisBreaker(plugin, recovered, log)))
  return b
}

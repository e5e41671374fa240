import type { Logger } from '../../core/logger.js'
import type { RedisConnection, RedisScript } from '../../core/services.js'
import {
  type BreakerCounters,
  type BreakerState,
  LocalBreaker,
  type Thresholds,
  type TransitionListener,
  type Verdict,
} from './breaker.js'
import { ACQUIRE_LUA, FLUSH_LUA, FORCE_LUA, TRIAL_LUA } from './lua.js'
import { FLUSH_MS, MirroredBreaker } from './mirror.js'

/** A script's reply: state, ms left open, open period, version, changed (, granted). */
type StateReply = [string, number, number, number, number, number?]

/** The scripts of one Redis connection (defined once per connection and name). */
export interface SharedScripts {
  flush: RedisScript<StateReply>
  acquire: RedisScript<StateReply>
  trial: RedisScript<StateReply>
  force: RedisScript<StateReply>
}

export function sharedScripts(conn: RedisConnection): SharedScripts {
  return {
    flush: conn.script<StateReply>('circuit-breaker-flush', FLUSH_LUA, 1),
    acquire: conn.script<StateReply>('circuit-breaker-acquire', ACQUIRE_LUA, 1),
    trial: conn.script<StateReply>('circuit-breaker-trial', TRIAL_LUA, 1),
    force: conn.script<StateReply>('circuit-breaker-force', FORCE_LUA, 1),
  }
}

/** What a state message on the channel carries (and what every script replies, as a record). */
export interface StateMessage {
  /** breaker id */
  k: string
  s: BreakerState
  /** ms left open when it was sent */
  r: number
  o: number
  g: number
}

export interface SharedDeps {
  conn: RedisConnection
  scripts: SharedScripts
  /** the breaker's hash key */
  key: string
  deadlineMs: number
  /** publishes a transition to every node (this one included) */
  publish(m: StateMessage): void
  log: Logger
}

/**
 * A breaker shared over Redis (policy redis). Outcomes are counted here and sent in one script
 * call per {@link FLUSH_MS} (never a Redis call per request); the state comes back in the
 * script's reply and in the messages other nodes publish, and every decision on the request path
 * reads that state in memory ({@link MirroredBreaker}). Half-open trial calls are handed out by
 * Redis, one at a time, so the limit holds across the cluster. While Redis cannot be reached the
 * node decides alone with its own breaker (which has seen the same outcomes all along), and says
 * so (`fallback`).
 */
export class SharedBreaker extends MirroredBreaker {
  /** the node's own breaker: the decisions while Redis is away */
  readonly local: LocalBreaker
  /** Redis cannot be reached: the local breaker decides */
  fallback = false
  fallbackReason = ''
  readonly counters: BreakerCounters
  #closed = false

  constructor(
    t: Thresholds,
    readonly deps: SharedDeps,
    readonly onTransition: TransitionListener,
  ) {
    super(t)
    // the local breaker's transitions count only while it is the one deciding
    this.local = new LocalBreaker(t, (from, to) => {
      if (this.fallback) onTransition(from, to)
    })
    this.counters = this.local.counters
    this.sync()
  }

  reconfigure(t: Thresholds): void {
    this.t = t
    this.local.reconfigure(t)
  }

  /** the state that decides now (a connection found down starts the fallback here too) */
  current(): BreakerState {
    return this.#checkFallback() ? this.local.state : this.state
  }

  override refuses(now: number): boolean {
    if (this.#checkFallback()) return this.local.refuses(now)
    return super.refuses(now)
  }

  override admit(now: number): Verdict {
    if (this.#checkFallback()) return this.local.admit(now)
    return super.admit(now)
  }

  /** {@link MirroredBreaker.pendingTrial}, at most the Redis deadline away; none while Redis is away */
  override pendingTrial(): Promise<Verdict> | null {
    if (this.fallback) return null
    return super.pendingTrial()
  }

  release(): void {
    if (this.fallback) return this.local.release()
    this.#script(this.deps.scripts.trial, ['release', ...this.#trialArgs()])
  }

  record(now: number, failed: boolean, slow: boolean, trial: boolean): void {
    // the local breaker sees every outcome, ready to decide if Redis goes away
    this.local.record(now, failed, slow, trial && this.fallback)
    if (this.fallback) return
    if (trial) {
      this.#script(this.deps.scripts.trial, [failed || slow ? 'fail' : 'ok', ...this.#trialArgs()])
      return
    }
    this.countOutcome(failed, slow)
  }

  override remainingMs(now: number): number {
    if (this.fallback) return this.local.remainingMs(now)
    return super.remainingMs(now)
  }

  /** the Admin API's force, for every node; without Redis, for this node's fallback only */
  async force(open: boolean): Promise<void> {
    try {
      const reply = await this.deps.scripts.force.run(
        [this.deps.key, open ? 'open' : 'close', this.t.openMs, this.#ttl()],
        { deadlineMs: Math.max(this.deps.deadlineMs, 1000), background: true },
      )
      this.#reply(reply)
    } catch (err) {
      this.#lost(err)
      this.local.force(open, Date.now())
    }
  }

  /** sends the pending outcomes (also a read of the state when there are none) */
  flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
    if (this.#closed) return
    const p = this.pending
    this.pending = { calls: 0, failures: 0, slow: 0 }
    const t = this.t
    this.#script(this.deps.scripts.flush, [
      p.calls,
      p.failures,
      p.slow,
      t.windowS,
      t.minimumCalls,
      t.failureRate,
      t.slowMs > 0 ? 1 : 0,
      t.slowRate,
      t.openMs,
      this.#ttl(),
    ])
  }

  /** reads the shared state (after a subscriber reconnection: messages may have been lost) */
  sync(): void {
    this.flush()
  }

  /** a state message from the channel (this node's own included) */
  apply(m: StateMessage): void {
    if (m.g < this.gen) return
    this.#adopt(m.s, m.r, m.o, m.g)
  }

  close(): void {
    this.#closed = true
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
  }

  protected askTrial(): Promise<boolean | null> {
    return this.deps.scripts.acquire
      .run([this.deps.key, this.t.halfOpenCalls, this.t.windowS * 1000, this.#ttl()], {
        deadlineMs: this.deps.deadlineMs,
      })
      .then(
        (r) => {
          this.#reply(r)
          return r[5] === 1
        },
        (err: unknown) => {
          this.#lost(err)
          return null
        },
      )
  }

  #script(script: RedisScript<StateReply>, args: Array<string | number>): void {
    script.send([this.deps.key, ...args], { deadlineMs: this.deps.deadlineMs }, (err, r) => {
      if (err !== null || r === undefined) this.#lost(err)
      else this.#reply(r)
    })
  }

  #trialArgs(): number[] {
    return [this.t.halfOpenCalls, this.t.openMs, this.t.maxOpenMs, this.#ttl()]
  }

  /** long enough for the longest open period and a window after it */
  #ttl(): number {
    return this.t.maxOpenMs * 2 + this.t.windowS * 1000 + 60_000
  }

  #reply(r: StateReply): void {
    if (this.fallback) {
      this.fallback = false
      this.fallbackReason = ''
      this.deps.log.info(
        { breaker: this.deps.key },
        'circuit breaker: Redis answers again, shared state back',
      )
    }
    const [s, left, om, gen, changed] = r
    if (gen >= this.gen) this.#adopt(s as BreakerState, left, om, gen)
    if (changed === 1) this.deps.publish({ k: this.deps.key, s: s as BreakerState, r: left, o: om, g: gen })
  }

  #adopt(s: BreakerState, left: number, om: number, gen: number): void {
    const from = this.adoptState(s, left, om, gen)
    if (from !== s && !this.fallback) this.onTransition(from, s)
  }

  /** true while Redis is away; a connection that turned unavailable starts the fallback */
  #checkFallback(): boolean {
    if (!this.fallback && !this.deps.conn.available()) this.#lost(new Error('redis unavailable'))
    return this.fallback
  }

  #lost(err: unknown): void {
    if (this.#closed) return
    if (!this.fallback) {
      this.fallback = true
      this.fallbackReason = (err as Error | null)?.message ?? 'redis unavailable'
      // carry on from the last shared state, then decide alone
      this.local.adopt(this.state, this.until, this.openMs, Date.now())
      this.deps.log.warn(
        { breaker: this.deps.key, reason: this.fallbackReason },
        'circuit breaker: Redis unreachable, deciding on this node alone',
      )
    }
    // probe Redis once a second until it answers (a flush that succeeds ends the fallback)
    this.flushTimer ??= setTimeout(() => this.#probe(), 1000).unref()
  }

  #probe(): void {
    this.flushTimer = null
    if (!this.#closed && this.fallback) this.flush()
  }
}

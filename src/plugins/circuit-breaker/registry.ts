import type { Logger } from '../../core/logger.js'
import type { NodePeers } from '../../core/peers.js'
import type { PluginServices, RedisConnection } from '../../core/services.js'
import { type BreakerState, LocalBreaker, type Thresholds, type TransitionListener } from './breaker.js'
import { PeerBreaker } from './peer.js'
import { SharedBreaker, type SharedScripts, type StateMessage, sharedScripts } from './shared.js'

/** One breaker as the node lists it: whose it is, what it guards, and its state machine. */
export interface BreakerEntry {
  /** `<plugin id>@<service id>`, `…@<host:port>` for a target's breaker */
  readonly id: string
  readonly pluginId: string
  readonly service: string
  readonly route: string | null
  /** '' for a service's breaker */
  readonly target: string
  readonly policy: 'local' | 'redis'
  /** local policy: this process's, or on a node with workers the node's (the primary's) */
  readonly guard: LocalBreaker | PeerBreaker | SharedBreaker
  /** transitions on this node, by `from>to` */
  readonly transitions: Map<string, number>
  /** when the state last changed on this node (ms since the epoch) */
  readonly changedAt: number
}

export function stateOf(e: BreakerEntry): BreakerState {
  return e.guard instanceof SharedBreaker ? e.guard.current() : e.guard.state
}

/** What a breaker is created from. */
export interface BreakerSpec {
  id: string
  pluginId: string
  service: string
  route: string | null
  target: string
  policy: 'local' | 'redis'
  thresholds: Thresholds
  /** redis policy: the connection, the deadline and the node's key prefix */
  redis?: { conn: RedisConnection; deadlineMs: number; prefix: string } | undefined
  /** local policy on a node with workers: the primary holds the node's state */
  peers?: NodePeers | undefined
}

/** One Redis connection's channel and scripts, shared by every breaker on it. */
interface Channel {
  scripts: SharedScripts
  byId: Map<string, SharedBreaker>
  unlisten: () => void
  publish(m: StateMessage): void
}

/**
 * The node's breakers, kept in `services.shared` so that a reload finds the same state (a
 * breaker open before a config change is open after it). Each plugin instance holds a
 * reference; the breakers of a plugin that left the configuration go with its last instance.
 */
export class BreakerRegistry {
  readonly entries = new Map<string, BreakerEntry>()
  readonly #refs = new Map<string, number>()
  readonly #channels = new Map<RedisConnection, Channel>()

  constructor(public log: Logger) {}

  /** The breaker `spec.id`, created on first use; the same one (with the new figures) after a reload. */
  use(spec: BreakerSpec): BreakerEntry {
    const found = this.entries.get(spec.id)
    if (found !== undefined && found.policy === spec.policy) {
      found.guard.reconfigure(spec.thresholds)
      return found
    }
    if (found !== undefined) this.#drop(found)
    const transitions = new Map<string, number>()
    const at = { changedAt: Date.now() }
    const listener: TransitionListener = (from, to, counted = true) => {
      at.changedAt = Date.now()
      if (!counted) return
      const k = `${from}>${to}`
      transitions.set(k, (transitions.get(k) ?? 0) + 1)
      this.log.info({ breaker: spec.id, from, to }, 'circuit breaker state changed')
    }
    const guard =
      spec.redis !== undefined
        ? this.#shared(spec, spec.redis, listener)
        : spec.peers !== undefined
          ? new PeerBreaker(spec.thresholds, spec.id, spec.peers, listener)
          : new LocalBreaker(spec.thresholds, listener)
    const entry: BreakerEntry = {
      id: spec.id,
      pluginId: spec.pluginId,
      service: spec.service,
      route: spec.route,
      target: spec.target,
      policy: spec.policy,
      guard,
      transitions,
      get changedAt() {
        return at.changedAt
      },
    }
    this.entries.set(spec.id, entry)
    return entry
  }

  /** drops the plugin's breakers a new config no longer has (a target that left the upstream) */
  prune(pluginId: string, keep: ReadonlySet<string>): void {
    for (const e of [...this.entries.values()]) if (e.pluginId === pluginId && !keep.has(e.id)) this.#drop(e)
  }

  hold(pluginId: string): void {
    this.#refs.set(pluginId, (this.#refs.get(pluginId) ?? 0) + 1)
  }

  /** an instance of the plugin closed: its breakers go when no instance of it is left */
  release(pluginId: string): void {
    const n = (this.#refs.get(pluginId) ?? 1) - 1
    if (n > 0) {
      this.#refs.set(pluginId, n)
      return
    }
    this.#refs.delete(pluginId)
    for (const e of [...this.entries.values()]) if (e.pluginId === pluginId) this.#drop(e)
  }

  #shared(
    spec: BreakerSpec,
    r: NonNullable<BreakerSpec['redis']>,
    listener: TransitionListener,
  ): SharedBreaker {
    const channel = this.#channel(r.conn, r.prefix)
    const key = `${r.prefix}cb:{${spec.id}}`
    const breaker = new SharedBreaker(
      spec.thresholds,
      {
        conn: r.conn,
        scripts: channel.scripts,
        key,
        deadlineMs: r.deadlineMs,
        publish: channel.publish,
        log: this.log,
      },
      listener,
    )
    // messages name the breaker by its Redis key
    channel.byId.set(key, breaker)
    return breaker
  }

  /** one subscription per Redis for every breaker on it; a reconnection re-reads every state */
  #channel(conn: RedisConnection, prefix: string): Channel {
    const found = this.#channels.get(conn)
    if (found !== undefined) return found
    const name = `${prefix}circuit-breaker`
    const byId = new Map<string, SharedBreaker>()
    const unlisten = conn.listen(
      name,
      (text) => {
        let m: StateMessage
        try {
          m = JSON.parse(text) as StateMessage
        } catch {
          return
        }
        byId.get(m.k)?.apply(m)
      },
      () => {
        for (const b of byId.values()) b.sync()
      },
    )
    const channel: Channel = {
      scripts: sharedScripts(conn),
      byId,
      unlisten,
      publish: (m) => {
        conn.publish(name, JSON.stringify(m)).catch((err: unknown) => {
          this.log.warn({ err, breaker: m.k }, 'circuit breaker: state change not published')
        })
      },
    }
    this.#channels.set(conn, channel)
    return channel
  }

  #drop(e: BreakerEntry): void {
    this.entries.delete(e.id)
    if (e.guard instanceof PeerBreaker) e.guard.close()
    if (!(e.guard instanceof SharedBreaker)) return
    e.guard.close()
    for (const [conn, ch] of this.#channels) {
      if (ch.byId.get(e.guard.deps.key) !== e.guard) continue
      ch.byId.delete(e.guard.deps.key)
      if (ch.byId.size === 0) {
        ch.unlisten()
        this.#channels.delete(conn)
      }
    }
  }
}

/** The node's one registry (it outlives every runtime). */
export function nodeBreakers(services: PluginServices, log: Logger): BreakerRegistry {
  return services.shared('circuit-breaker:node', () => new BreakerRegistry(log))
}

import type { Logger } from '../../core/logger.js'
import type { ProbeTarget } from './active-checker.js'
import { ActiveChecker } from './active-checker.js'
import type { HealthCause, HealthPolicy } from './health-state.js'
import { TargetHealth } from './health-state.js'
import type { TargetAddress } from './target.js'

export interface HealthRegistryOptions {
  /** ms a passively failed target waits before it is tried again (default 10 000; Infinity = Kong's never) */
  passiveCooldownMs?: number
  /**
   * ms the state of a target that no balancer uses any more is kept (default 300 000), so a
   * reload that closes the old balancer before building the new one still finds it.
   */
  retainMs?: number
  /** health transitions are logged here (warn when a target goes down, info when it is back) */
  logger?: Logger
  /** a node with workers: transitions shared with the other workers, active checks in one of them */
  share?: HealthShare | undefined
}

/** One target's transition as the workers of a node tell each other. */
export interface SharedHealth {
  /** `upstreamId|address` */
  key: string
  healthy: boolean
  cause: HealthCause | ''
}

/**
 * How a worker shares health with its node (main.ts wires it to the primary): what one worker
 * sees (a passive failure, a probe) holds in every worker at once, and the active checks run in
 * one worker, not in each.
 */
export interface HealthShare {
  /** this worker runs the node's active checks */
  readonly checks: boolean
  publish(change: SharedHealth): void
  /** `apply` gets the other workers' transitions (and the node's current ones at start) */
  subscribe(apply: (change: SharedHealth) => void): void
}

/** One health transition, for logs and metrics. */
export interface HealthChange {
  upstream: string
  upstreamId: string
  target: string
  healthy: boolean
  /** what took it out ('' when it came back) */
  cause: HealthCause | ''
}

/** What a balancer gets back from {@link HealthRegistry.attach}. */
export interface Attachment {
  /** shared state per address, in the order given */
  readonly states: readonly TargetHealth[]
  /** the balancer is done: its states may be forgotten, its active checks stop */
  release(): void
}

interface Registration {
  readonly policy: HealthPolicy
  readonly probeTargets: readonly ProbeTarget[]
  /** equal signatures probe the same way, so a reload that changes nothing keeps the checker */
  readonly signature: string
}

interface UpstreamEntry {
  readonly id: string
  name: string
  readonly registrations: Registration[]
  checker: ActiveChecker | undefined
  checked: Registration | undefined
}

/**
 * Node-wide health of upstream targets, keyed by `upstreamId|address`. Balancers are rebuilt on
 * every config change; the registry outlives them, so health, counters and in-flight counts
 * carry over, and each upstream has one set of active checks (the newest config's) however
 * many balancers are alive during a swap.
 *
 * @example
 *   const registry = new HealthRegistry({ passiveCooldownMs: 10_000, logger })
 *   const balancer = createBalancer(upstream, targets, registry)
 *   registry.onChange((c) => logger.warn(c, 'target health changed'))
 *   // on shutdown
 *   registry.close()
 */
export class HealthRegistry {
  readonly cooldownMs: number
  private readonly retainMs: number
  private readonly logger: Logger | undefined
  private readonly states = new Map<string, TargetHealth>()
  private readonly released = new Set<string>()
  private readonly upstreams = new Map<string, UpstreamEntry>()
  private readonly listeners = new Set<(change: HealthChange) => void>()
  private closed = false
  private readonly share: HealthShare | undefined
  /** the other workers' latest transitions, for states created after them */
  private readonly remote = new Map<string, SharedHealth>()

  constructor(opts: HealthRegistryOptions = {}) {
    this.cooldownMs = opts.passiveCooldownMs ?? 10_000
    this.retainMs = opts.retainMs ?? 300_000
    this.logger = opts.logger
    this.share = opts.share
    this.share?.subscribe((change) => this.applyRemote(change))
  }

  /** Another worker's transition: the same state here, told to listeners (metrics), not logged again. */
  private applyRemote(change: SharedHealth): void {
    this.remote.set(change.key, change)
    const state = this.states.get(change.key)
    if (state === undefined || state.healthy === change.healthy) return
    this.adopt(state, change)
    const [upstreamId = '', target = ''] = change.key.split('|')
    const upstream = this.upstreams.get(upstreamId)?.name ?? upstreamId
    for (const listener of this.listeners) {
      try {
        listener({ upstream, upstreamId, target, healthy: change.healthy, cause: change.cause })
      } catch (err) {
        this.logger?.error({ err }, 'health change listener failed')
      }
    }
  }

  private adopt(state: TargetHealth, change: SharedHealth): void {
    if (change.healthy) state.setHealthy()
    else {
      const policy = this.upstreams.get(change.key.split('|')[0]!)?.registrations.at(-1)?.policy
      const cause = change.cause === '' ? 'passive' : change.cause
      state.setUnhealthy(
        cause,
        cause === 'passive' ? (policy?.cooldownMs ?? this.cooldownMs) : Number.POSITIVE_INFINITY,
      )
    }
  }

  /** The shared state of one target, if any balancer has used it (for inspection and tests). */
  state(upstreamId: string, address: string): TargetHealth | undefined {
    return this.states.get(`${upstreamId}|${address}`)
  }

  /** Subscribes to health transitions; returns the unsubscribe function. */
  onChange(listener: (change: HealthChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Takes the states of an upstream's targets for a new balancer and makes its policy the one
   * the active checks follow. Targets of weight 0 take no traffic and are not probed.
   */
  attach(
    upstream: { id: string; name: string },
    policy: HealthPolicy,
    targets: ReadonlyArray<TargetAddress & { weight: number }>,
  ): Attachment {
    this.sweep()
    const keys = targets.map((t) => `${upstream.id}|${t.address}`)
    const states = keys.map((key) => this.acquire(key))
    // With checks off every target is usable; a state left unhealthy by an older config must
    // not come back as unhealthy if checks are turned on again later.
    if (!policy.enabled) for (const s of states) if (!s.healthy) s.setHealthy()

    const probeTargets = targets.flatMap((t, i) =>
      t.weight > 0
        ? [{ host: t.host, port: t.port, address: t.address, healthPath: t.healthPath, state: states[i] }]
        : [],
    )
    const registration: Registration = {
      policy,
      probeTargets,
      signature: JSON.stringify([
        policy.activeConfig,
        policy.hostHeader,
        probeTargets.map((t) => [t.address, t.healthPath]),
      ]),
    }
    let entry = this.upstreams.get(upstream.id)
    if (entry === undefined) {
      entry = {
        id: upstream.id,
        name: upstream.name,
        registrations: [],
        checker: undefined,
        checked: undefined,
      }
      this.upstreams.set(upstream.id, entry)
    }
    entry.name = upstream.name
    entry.registrations.push(registration)
    this.refreshChecker(entry)

    let done = false
    return {
      states,
      release: () => {
        if (done) return
        done = true
        for (const key of keys) this.releaseKey(key)
        const e = this.upstreams.get(upstream.id)
        if (e === undefined) return
        const i = e.registrations.indexOf(registration)
        if (i >= 0) e.registrations.splice(i, 1)
        this.refreshChecker(e)
        if (e.registrations.length === 0) this.upstreams.delete(e.id)
      },
    }
  }

  /** Tells listeners and the log that a target's health changed. */
  notify(upstream: { id: string; name: string }, address: string, state: TargetHealth): void {
    const change: HealthChange = {
      upstream: upstream.name,
      upstreamId: upstream.id,
      target: address,
      healthy: state.healthy,
      cause: state.cause,
    }
    if (state.healthy) this.logger?.info(change, 'upstream target is healthy again')
    else this.logger?.warn(change, 'upstream target is unhealthy')
    this.share?.publish({ key: `${upstream.id}|${address}`, healthy: state.healthy, cause: state.cause })
    for (const listener of this.listeners) {
      // A broken metrics hook must not stop the passive report or the probe loop that called us.
      try {
        listener(change)
      } catch (err) {
        this.logger?.error({ err, ...change }, 'health change listener failed')
      }
    }
  }

  /** Stops every active check; balancers keep working on passive health only. */
  close(): void {
    this.closed = true
    for (const entry of this.upstreams.values()) {
      entry.checker?.stop()
      entry.checker = undefined
      entry.checked = undefined
    }
  }

  private acquire(key: string): TargetHealth {
    let state = this.states.get(key)
    if (state === undefined) {
      this.states.set(key, (state = new TargetHealth()))
      const known = this.remote.get(key)
      if (known !== undefined && !known.healthy) this.adopt(state, known)
    }
    state.refs++
    this.released.delete(key)
    return state
  }

  private releaseKey(key: string): void {
    const state = this.states.get(key)
    if (state === undefined || --state.refs > 0) return
    state.releasedAt = performance.now()
    this.released.add(key)
  }

  private sweep(): void {
    const cutoff = performance.now() - this.retainMs
    for (const key of this.released) {
      const state = this.states.get(key)
      if (state !== undefined && state.refs > 0) this.released.delete(key)
      else if (state === undefined || state.releasedAt <= cutoff) {
        this.states.delete(key)
        this.released.delete(key)
      }
    }
  }

  /** The newest live registration drives the checks; older ones are draining. */
  private refreshChecker(entry: UpstreamEntry): void {
    const newest = this.closed ? undefined : entry.registrations.at(-1)
    if (newest === entry.checked) return
    if (
      newest !== undefined &&
      entry.checker !== undefined &&
      newest.signature === entry.checked?.signature
    ) {
      entry.checked = newest
      return
    }
    entry.checker?.stop()
    entry.checker = undefined
    entry.checked = newest
    const cfg = newest?.policy.activeConfig
    if (newest === undefined || cfg === undefined) return
    if (cfg.healthy.interval <= 0 && cfg.unhealthy.interval <= 0) return
    // a node with workers probes from one of them; the others hear its verdicts
    if (this.share !== undefined && !this.share.checks) return
    const { policy } = newest
    entry.checker = new ActiveChecker(policy, newest.probeTargets, (target, verdict) => {
      if (target.state.probe(policy, verdict)) this.notify(entry, target.address, target.state)
    })
    entry.checker.start()
  }
}

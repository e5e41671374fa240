import type { UpstreamEntity } from '../../core/entities.js'

/** How one proxied attempt to a target ended, for passive health checks. */
export type Outcome = 'success' | 'http_failure' | 'tcp_failure' | 'timeout'

/** One target of an upstream (or the single host of a service without upstream). */
export interface Target {
  readonly host: string
  readonly port: number
  /** `host:port` */
  readonly address: string
  readonly weight: number
  /** false while taken out by passive or active health checks */
  readonly healthy: boolean
  /** requests in flight (least-connections) */
  readonly active: number
}

/** What a consistent-hashing balancer hashes on, computed by the caller per request. */
export interface PickInput {
  hashKey: string | undefined
  /** the `hash_fallback` value, used when `hashKey` is undefined; neither → round-robin */
  fallbackKey?: string | undefined
}

/**
 * Targets a request may not go to, asked during one pick (the plugins that watch attempts: a
 * per-target breaker that is open). Only consulted while the pick runs, synchronously.
 */
export interface TargetVeto {
  refuses(address: string): boolean
}

/**
 * Picks a target per request and learns from outcomes. Built once per config from an upstream
 * entity and its targets; health state lives in a {@link HealthRegistry} so it survives reloads.
 */
export interface Balancer {
  readonly upstream: UpstreamEntity
  readonly targets: readonly Target[]
  /** undefined when no target is healthy (→ 503) or every healthy one is vetoed */
  pick(input: PickInput, exclude?: Target, veto?: TargetVeto): Target | undefined
  /** call when a request to the target starts / ends (least-connections counts these) */
  begin(target: Target): void
  end(target: Target): void
  /** passive health: one attempt's outcome and upstream status */
  report(target: Target, outcome: Outcome, status?: number): void
  /**
   * Kong's manual override (`PUT /upstreams/{u}/targets/{t}/healthy|unhealthy`): the target at
   * `address` is healthy, or out until set healthy again (or an active probe brings it back),
   * in every balancer and worker of the node. Returns why it cannot be done, or null.
   */
  setHealth(address: string, healthy: boolean): string | null
  /** for /healthz */
  describe(): UpstreamHealth
  /** stop active checks */
  close(): void
}

export interface UpstreamHealth {
  name: string
  healthy: boolean
  targets: Array<{ target: string; weight: number; health: 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF' }>
}

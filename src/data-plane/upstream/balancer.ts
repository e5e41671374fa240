import type { TargetEntity, UpstreamEntity } from '../../core/entities.js'
import { ConsistentHashingPicker } from './consistent-hashing.js'
import { defaultUpstream } from './defaults.js'
import type { Attachment } from './health-registry.js'
import { HealthRegistry } from './health-registry.js'
import type { HealthPolicy } from './health-state.js'
import { compilePolicy } from './health-state.js'
import { LeastConnectionsPicker } from './least-connections.js'
import type { Picker, Pool } from './picker.js'
import { RoundRobinPicker } from './round-robin.js'
import type { TargetAddress } from './target.js'
import { BalancedTarget, formatAddress, parseTarget } from './target.js'
import type { Balancer, Outcome, PickInput, Target, TargetVeto, UpstreamHealth } from './types.js'

/** Passive thresholds a plain-host service counts with; they only feed /healthz, never picks. */
export interface SingleTargetOptions {
  /** share state (and in-flight counts) with other services pointing at the same host */
  registry?: HealthRegistry
  /** consecutive connection failures / timeouts before /healthz shows it UNHEALTHY (default 3 / 3) */
  tcpFailures?: number
  timeouts?: number
}

class UpstreamBalancer implements Balancer, Pool {
  readonly targets: readonly BalancedTarget[]
  private readonly picker: Picker
  private readonly attachment: Attachment
  private readonly totalWeight: number
  /** the veto of the pick running now (set and cleared around it: picks are synchronous) */
  private veto: TargetVeto | null = null

  constructor(
    readonly upstream: UpstreamEntity,
    addresses: ReadonlyArray<TargetAddress & { weight: number }>,
    private readonly registry: HealthRegistry,
    private readonly policy: HealthPolicy,
    /** false for a plain host: there is nothing else to send to, health is only reported */
    private readonly avoidUnhealthy: boolean,
  ) {
    this.attachment = registry.attach(upstream, policy, addresses)
    this.targets = addresses.map((a, i) => new BalancedTarget(a, a.weight, i, this.attachment.states[i]))
    this.totalWeight = addresses.reduce((sum, a) => sum + a.weight, 0)
    this.picker =
      upstream.algorithm === 'consistent-hashing'
        ? new ConsistentHashingPicker(this)
        : upstream.algorithm === 'least-connections'
          ? new LeastConnectionsPicker(this)
          : new RoundRobinPicker(this)
  }

  pickable(t: BalancedTarget, exclude: Target | undefined): boolean {
    if (t.weight <= 0 || (exclude !== undefined && t.address === exclude.address)) return false
    if (this.veto?.refuses(t.address)) return false
    return !this.avoidUnhealthy || !this.policy.enabled || t.state.available()
  }

  pick(input: PickInput, exclude?: Target, veto?: TargetVeto): Target | undefined {
    // Kong's threshold counts health only: a target a breaker ejected is not "down" for it
    if (this.policy.threshold > 0 && !this.aboveThreshold()) return undefined
    this.veto = veto ?? null
    try {
      const target = this.picker.pick(input, exclude)
      // A retry prefers another target, but the same one beats none at all.
      if (target !== undefined || exclude === undefined) return target
      return this.picker.pick(input, undefined)
    } finally {
      this.veto = null
    }
  }

  begin(target: Target): void {
    if (target instanceof BalancedTarget) target.state.active++
  }

  end(target: Target): void {
    if (target instanceof BalancedTarget && target.state.active > 0) target.state.active--
  }

  report(target: Target, outcome: Outcome, status?: number): void {
    if (!(target instanceof BalancedTarget)) return
    if (target.state.passive(this.policy, outcome, status)) {
      this.registry.notify(this.upstream, target.address, target.state)
    }
  }

  setHealth(address: string, healthy: boolean): string | null {
    // Kong: an upstream without health checks has no healthchecker to tell (a 400)
    if (!this.avoidUnhealthy || !this.policy.enabled)
      return `no healthchecker found for ${this.upstream.name}`
    const target = this.targets.find((t) => t.address === address)
    if (target === undefined) return `target ${address} is not balanced by ${this.upstream.name}`
    if (healthy) target.state.setHealthy()
    else target.state.setUnhealthy('manual', Number.POSITIVE_INFINITY)
    this.registry.notify(this.upstream, address, target.state)
    return null
  }

  describe(): UpstreamHealth {
    const off = !this.policy.enabled
    return {
      name: this.upstream.name,
      healthy: this.avoidUnhealthy ? this.aboveThreshold() : this.targets[0]!.healthy,
      targets: this.targets.map((t) => ({
        target: t.address,
        weight: t.weight,
        health: off ? 'HEALTHCHECKS_OFF' : t.healthy ? 'HEALTHY' : 'UNHEALTHY',
      })),
    }
  }

  close(): void {
    this.attachment.release()
  }

  /**
   * Kong's `threshold`: below this percentage of the total weight available, the upstream as a
   * whole counts as down and takes no requests. Nothing available is down whatever the threshold.
   */
  private aboveThreshold(): boolean {
    let available = 0
    for (const t of this.targets) if (this.pickable(t, undefined)) available += t.weight
    return available > 0 && available * 100 >= this.policy.threshold * this.totalWeight
  }
}

/**
 * Builds the balancer of one upstream for one config. Targets of other upstreams are ignored; a
 * target listed twice keeps its last weight (Kong's newest-entity-wins). Health state comes from
 * `registry`, so a balancer built on reload continues where the previous one was; `close()` the
 * old one once its requests are done.
 *
 * @example
 *   const balancer = createBalancer(upstream, doc.targets, registry)
 *   const target = balancer.pick({ hashKey: ctx.clientIp })
 *   if (target === undefined) throw new GatewayError('NO_HEALTHY_TARGET')
 *   balancer.begin(target)
 *   // … proxy to target.host:target.port …
 *   balancer.report(target, 'success', res.statusCode)
 *   balancer.end(target)
 */
export function createBalancer(
  upstream: UpstreamEntity,
  targets: readonly TargetEntity[],
  registry: HealthRegistry,
): Balancer {
  const byAddress = new Map<string, TargetAddress & { weight: number }>()
  for (const t of targets) {
    if (t.upstream.id !== upstream.id) continue
    let addr: TargetAddress
    try {
      addr = parseTarget(t.target)
    } catch (err) {
      throw new Error(`upstream '${upstream.name}': ${(err as Error).message}`)
    }
    byAddress.set(addr.address, { ...addr, weight: t.weight, healthPath: t.health_path ?? undefined })
  }
  const policy = compilePolicy(upstream, registry.cooldownMs)
  return new UpstreamBalancer(upstream, [...byAddress.values()], registry, policy, true)
}

/**
 * The balancer of a service that points at a plain host rather than an upstream: it always picks
 * that host (there is nothing to fail over to), and counts consecutive connection failures and
 * timeouts only so /healthz can show it UNHEALTHY; the first success shows it HEALTHY again.
 *
 * @example
 *   const balancer = singleTargetBalancer(service.host, service.port, { registry })
 *   balancer.describe() // { name: 'example.com:80', healthy: true, targets: [{ …, health: 'HEALTHY' }] }
 */
export function singleTargetBalancer(host: string, port: number, opts: SingleTargetOptions = {}): Balancer {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host.toLowerCase()
  const address = formatAddress(bare, port)
  const upstream = defaultUpstream({ id: '', name: address })
  upstream.healthchecks.passive.unhealthy.tcp_failures = opts.tcpFailures ?? 3
  upstream.healthchecks.passive.unhealthy.timeouts = opts.timeouts ?? 3
  // Any HTTP answer proves the host reachable, whatever the application made of the request.
  upstream.healthchecks.passive.healthy.http_statuses = Array.from({ length: 500 }, (_, i) => 100 + i)
  const registry = opts.registry ?? new HealthRegistry()
  const policy = compilePolicy(upstream, 0)
  return new UpstreamBalancer(upstream, [{ host: bare, port, address, weight: 100 }], registry, policy, false)
}

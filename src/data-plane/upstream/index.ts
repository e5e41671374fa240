/**
 * Upstream balancing and health, as the runtime uses it: one {@link HealthRegistry} per node,
 * one balancer per upstream (or plain-host service) per config.
 *
 * @example
 *   import { createBalancer, compileHashInput, HealthRegistry } from './upstream/index.js'
 *   const registry = new HealthRegistry({ logger })
 *   const balancer = createBalancer(upstream, doc.targets, registry)
 *   const inputOf = compileHashInput(upstream)
 */
export type { SingleTargetOptions } from './balancer.js'
export { createBalancer, singleTargetBalancer } from './balancer.js'
export { defaultHealthchecks, defaultUpstream } from './defaults.js'
export { compileHashInput } from './hash-key.js'
export type { HealthChange, HealthRegistryOptions } from './health-registry.js'
export { HealthRegistry } from './health-registry.js'
export { formatAddress, parseTarget } from './target.js'
export type { Balancer, Outcome, PickInput, Target, UpstreamHealth } from './types.js'

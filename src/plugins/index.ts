import type { PluginDefinition, PluginRegistry } from '../core/plugin.js'
import { plugin as acl } from './acl/plugin.js'
import { plugin as basicAuth } from './basic-auth/plugin.js'
import { plugin as circuitBreaker } from './circuit-breaker/plugin.js'
import { plugin as correlationId } from './correlation-id/plugin.js'
import { plugin as cors } from './cors/plugin.js'
import { plugin as ipRestriction } from './ip-restriction/plugin.js'
import { plugin as jwt } from './jwt/plugin.js'
import { plugin as keyAuth } from './key-auth/plugin.js'
import { plugin as prometheus } from './prometheus/plugin.js'
import { proxyCache } from './proxy-cache/plugin.js'
import { plugin as rateLimiting } from './rate-limiting/plugin.js'
import { plugin as requestQueue } from './request-queue/plugin.js'
import { plugin as requestSizeLimiting } from './request-size-limiting/plugin.js'
import { plugin as requestTermination } from './request-termination/plugin.js'
import { plugin as requestTransformer } from './request-transformer/plugin.js'
import { plugin as responseTransformer } from './response-transformer/plugin.js'

/**
 * The one list of plugins. Adding a plugin: a folder `plugins/<name>/` with `schema.ts` and
 * `plugin.ts`, and one line here.
 */
const PLUGINS = [
  acl,
  basicAuth,
  circuitBreaker,
  jwt,
  keyAuth,
  correlationId,
  cors,
  ipRestriction,
  prometheus,
  proxyCache,
  rateLimiting,
  requestQueue,
  requestSizeLimiting,
  requestTermination,
  requestTransformer,
  responseTransformer,
] as PluginDefinition[]

/**
 * @example
 *   const registry = createRegistry()
 *   registry.get('key-auth')?.priority   // 1250
 */
export function createRegistry(extra: PluginDefinition[] = []): PluginRegistry {
  const map = new Map<string, PluginDefinition>()
  for (const p of [...PLUGINS, ...extra]) map.set(p.name, p)
  return {
    get: (name) => map.get(name),
    names: () => [...map.keys()].sort(),
  }
}

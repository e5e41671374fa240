import type { PluginDefinition, PluginRegistry } from '../core/plugin.js'
import { plugin as acl } from './acl/plugin.js'
import { plugin as basicAuth } from './basic-auth/plugin.js'
import { plugin as jwt } from './jwt/plugin.js'
import { plugin as keyAuth } from './key-auth/plugin.js'

/**
 * The one list of plugins. Adding a plugin: a folder `plugins/<name>/` with `schema.ts` and
 * `plugin.ts`, and one line here.
 */
const PLUGINS: PluginDefinition[] = [jwt, keyAuth, basicAuth, acl]

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

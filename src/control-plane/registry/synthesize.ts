import { entityId } from '../../config/ids.js'
import { validateDocument } from '../../config/index.js'
import { type ConfigDocument, type ConfigIssue, emptyDocument } from '../../core/entities.js'
import type { PluginRegistry } from '../../core/plugin.js'
import type { Instance } from './types.js'

/** Names the registry gives to what it synthesises for service `name`. */
export const registryNames = (name: string) => ({
  service: `registry-${name}`,
  route: `registry-${name}`,
  upstream: `${name}.registry.portico`,
  path: `/api/${name}`,
})

function splitUrl(url: string): { protocol: 'http' | 'https'; target: string } {
  const u = new URL(url)
  const protocol = u.protocol === 'https:' ? 'https' : 'http'
  return { protocol, target: `${u.hostname}:${u.port || (protocol === 'https' ? 443 : 80)}` }
}

/**
 * The entities that make registered services reachable without writing a route: per service
 * name, a service `registry-{name}` on an upstream `{name}.registry.portico` whose targets are
 * the live instances, a route `/api/{name}` (prefix stripped), and an active health check on
 * `health_path` when an instance gives one. Ids are derived from names, so the same instances
 * always give the same entities (and the runtime keeps its balancer state across changes).
 * Services whose names clash with stored entities are skipped and reported.
 *
 * @example
 *   const { document, skipped } = synthesize(instances, stored, registry)
 *   // document.routes[0].paths → ['/api/users']
 */
export function synthesize(
  instances: readonly Instance[],
  stored: ConfigDocument,
  registry: PluginRegistry,
): { document: ConfigDocument; skipped: ConfigIssue[] } {
  const byService = new Map<string, Instance[]>()
  for (const i of [...instances].sort(
    (a, b) => a.registered_at - b.registered_at || a.id.localeCompare(b.id),
  )) {
    const list = byService.get(i.service) ?? []
    list.push(i)
    byService.set(i.service, list)
  }
  const input = { _format_version: '3.0', services: [] as unknown[], upstreams: [] as unknown[] }
  const skipped: ConfigIssue[] = []
  for (const [name, list] of [...byService].sort((a, b) => a[0].localeCompare(b[0]))) {
    const names = registryNames(name)
    const clash =
      stored.services.some((s) => s.name === names.service) ||
      stored.routes.some((r) => r.name === names.route) ||
      stored.upstreams.some((u) => u.name === names.upstream)
    if (clash) {
      skipped.push({
        path: `registry.${name}`,
        message: `stored entities already use the name ${names.service}`,
      })
      continue
    }
    const protocol = splitUrl((list[0] as Instance).url).protocol
    const healthPath = list.find((i) => i.health_path !== null)?.health_path ?? undefined
    // each instance is probed on its own health_path (one instance per address: the first)
    const targets = new Map<string, string | null>()
    for (const i of list) {
      const target = splitUrl(i.url).target
      if (!targets.has(target)) targets.set(target, i.health_path)
    }
    input.upstreams.push({
      id: entityId('portico:registry:upstreams', name),
      name: names.upstream,
      targets: [...targets].map(([target, health]) => ({
        id: entityId('portico:registry:targets', `${name}|${target}`),
        target,
        ...(health === null ? {} : { health_path: health }),
      })),
      ...(healthPath === undefined
        ? {}
        : {
            healthchecks: {
              active: {
                type: protocol,
                http_path: healthPath,
                https_verify_certificate: false,
                healthy: { interval: 2, successes: 1 },
                unhealthy: { interval: 2, http_failures: 2, tcp_failures: 1, timeouts: 2 },
              },
            },
          }),
    })
    input.services.push({
      id: entityId('portico:registry:services', name),
      name: names.service,
      protocol,
      host: names.upstream,
      port: protocol === 'https' ? 443 : 80,
      routes: [{ id: entityId('portico:registry:routes', name), name: names.route, paths: [names.path] }],
    })
  }
  if (input.services.length === 0) return { document: emptyDocument(), skipped }
  const { document, issues } = validateDocument(input, registry)
  if (document === null) return { document: emptyDocument(), skipped: [...skipped, ...issues] }
  return { document, skipped }
}

/**
 * The document the data plane runs: the stored entities, then the registry's.
 *
 * @example
 *   node.apply(mergeDocuments(stored, synthesize(instances, stored, registry).document))
 */
export function mergeDocuments(stored: ConfigDocument, extra: ConfigDocument): ConfigDocument {
  const out = { ...stored }
  for (const kind of Object.keys(extra) as Array<keyof ConfigDocument>) {
    if (extra[kind].length > 0) (out[kind] as unknown[]) = [...stored[kind], ...extra[kind]]
  }
  return out
}

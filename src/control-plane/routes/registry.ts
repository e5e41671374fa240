import { ApiError, notFound } from '../errors.js'
import type { AdminCall } from '../http.js'
import { registryNames } from '../registry/synthesize.js'
import type { Instance } from '../registry/types.js'
import { type AdminContext, created, noContent, ok } from './context.js'
import type { NodeInfo } from './node.js'

/** An instance as the registry endpoints show it: times in ISO form, status from TTL and health. */
function view(i: Instance, node: NodeInfo) {
  const names = registryNames(i.service)
  const target = new URL(i.url)
  const address = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`
  const health = node.health(names.upstream)?.targets.find((t) => t.target === address)?.health
  return {
    id: i.id,
    service: i.service,
    url: i.url,
    health_path: i.health_path,
    ttl: i.ttl,
    status: health === 'UNHEALTHY' ? 'unhealthy' : 'up',
    health: health ?? 'HEALTHCHECKS_OFF',
    registered_at: new Date(i.registered_at).toISOString(),
    last_seen: new Date(i.last_seen).toISOString(),
    expires_at: new Date(i.expires_at).toISOString(),
  }
}

function serviceView(name: string, instances: Instance[], node: NodeInfo) {
  const names = registryNames(name)
  return {
    name,
    route: names.path,
    upstream: names.upstream,
    instances: instances.map((i) => view(i, node)),
  }
}

function grouped(instances: readonly Instance[]): Map<string, Instance[]> {
  const out = new Map<string, Instance[]>()
  for (const i of instances) out.set(i.service, [...(out.get(i.service) ?? []), i])
  return new Map([...out].sort((a, b) => a[0].localeCompare(b[0])))
}

const unavailable = (err: unknown) =>
  new ApiError(503, { message: `the service registry is unavailable: ${(err as Error).message}` })

/**
 * The service registry's endpoints: register (`POST …/instances` {url, health_path?, ttl?}),
 * renew (`PUT …/instances/{id}`), deregister (`DELETE`), and list services with their live
 * instances (status, last seen). A registered service is reachable at `/api/{name}`.
 */
export function mountRegistry(ctx: AdminContext, node: NodeInfo): void {
  const r = ctx.router
  const registry = ctx.cp.registry
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | ApiError> => {
    try {
      return await fn()
    } catch (err) {
      return unavailable(err)
    }
  }
  r.add('GET', '/registry/services', async () => {
    await registry.refresh()
    const data = [...grouped(registry.instances)].map(([name, list]) => serviceView(name, list, node))
    return ok({ data, next: null })
  })
  r.add('GET', '/registry/services/:name', async (call: AdminCall) => {
    await registry.refresh()
    const list = grouped(registry.instances).get(call.params.name as string)
    return list === undefined ? notFound() : ok(serviceView(call.params.name as string, list, node))
  })
  r.add('POST', '/registry/services/:name/instances', async (call) => {
    const result = await attempt(() => registry.register(call.params.name as string, call.body.value))
    if (result instanceof ApiError) return result
    const shown = view(result.instance, node)
    return result.created ? created(shown) : ok(shown)
  })
  r.add('GET', '/registry/services/:name/instances/:id', async (call) => {
    await registry.refresh()
    const found = registry.instances.find((i) => i.service === call.params.name && i.id === call.params.id)
    return found === undefined ? notFound() : ok(view(found, node))
  })
  r.add('PUT', '/registry/services/:name/instances/:id', async (call) => {
    const renewed = await attempt(() =>
      registry.renew(call.params.name as string, call.params.id as string, call.body.value),
    )
    if (renewed instanceof ApiError) return renewed
    return renewed === null ? notFound() : ok(view(renewed, node))
  })
  r.add('DELETE', '/registry/services/:name/instances/:id', async (call) => {
    const removed = await attempt(() =>
      registry.deregister(call.params.name as string, call.params.id as string),
    )
    return removed instanceof ApiError ? removed : noContent()
  })
}

import type { Pool } from 'undici'
import type { EntityInfo, RequestContext } from '../core/context.js'
import type { ConfigDocument, RouteEntity, ServiceEntity, UpstreamEntity } from '../core/entities.js'
import type { Logger } from '../core/logger.js'
import type { PluginInstance, PluginRegistry } from '../core/plugin.js'
import type { PluginServices } from '../core/services.js'
import { buildChain, type Chain } from './chain.js'
import type { PoolRegistry } from './pools.js'
import type { RetryBudget, RetryBudgets } from './retry.js'
import { buildRouter } from './router/router.js'
import type { Router } from './router/types.js'
import { createBalancer, singleTargetBalancer } from './upstream/balancer.js'
import { compileHashInput } from './upstream/hash-key.js'
import type { HealthRegistry } from './upstream/health-registry.js'
import type { Balancer, PickInput, Target } from './upstream/types.js'

/** A service, ready to proxy to: its balancer, pools and timeouts resolved once. */
export interface CompiledService {
  readonly info: EntityInfo
  readonly entity: ServiceEntity
  readonly protocol: 'http' | 'https'
  /** service.path without a trailing slash ('' when none) */
  readonly basePath: string
  readonly balancer: Balancer
  readonly pools: ReadonlyMap<Target, Pool>
  /** Host header sent upstream when the route does not preserve the client's */
  readonly hostHeaders: ReadonlyMap<Target, string>
  readonly retries: number
  /** the retry budget of the upstream (or plain host) this service sends to, node-wide */
  readonly retryBudget: RetryBudget
  readonly readTimeout: number
  readonly writeTimeout: number
  /** computes the consistent-hashing input, or null when the balancer does not hash */
  readonly hashInput: ((ctx: RequestContext) => PickInput) | null
}

export interface CompiledRoute {
  readonly info: EntityInfo
  readonly entity: RouteEntity
  readonly service: CompiledService | null
  readonly chain: Chain
  readonly preserveHost: boolean
  /** Kong's `request_buffering`: a request body is read completely before the upstream is called */
  readonly requestBuffering: boolean
  /** Kong's `response_buffering`: the upstream's answer is read without waiting for a slow client */
  readonly responseBuffering: boolean
}

export interface RuntimeDeps {
  registry: PluginRegistry
  services: PluginServices
  pools: PoolRegistry
  health: HealthRegistry
  retries: RetryBudgets
  log: Logger
}

/**
 * Everything a request needs, built once per configuration and never changed: the router with
 * each route's compiled chain and service, the balancers, and the chain of unmatched requests.
 * A config change compiles a new Runtime off to the side and swaps one reference; requests in
 * flight finish on the runtime they started with.
 */
export class Runtime {
  /** requests that started on this runtime and have not finished */
  inflight = 0
  retired = false
  #onDrained: (() => void) | null = null

  constructor(
    readonly generation: number,
    readonly document: ConfigDocument,
    readonly hash: string,
    readonly router: Router<CompiledRoute>,
    readonly unmatched: Chain,
    readonly balancers: ReadonlyMap<string, Balancer>,
    readonly instances: readonly PluginInstance[],
  ) {}

  /** Mark replaced; `onDrained` runs once no request uses it any more. */
  retire(onDrained: () => void): void {
    this.retired = true
    this.#onDrained = onDrained
    if (this.inflight === 0) this.#drained()
  }

  release(): void {
    if (--this.inflight === 0 && this.retired) this.#drained()
  }

  #drained(): void {
    const cb = this.#onDrained
    this.#onDrained = null
    cb?.()
  }

  close(): void {
    for (const b of this.balancers.values()) b.close()
    for (const i of this.instances) i.close?.()
  }
}

/**
 * Compiles a validated document into a runtime. Throws when a plugin cannot be built (for
 * example a Redis policy without Redis): the caller keeps serving the old runtime.
 */
export async function compileRuntime(
  doc: ConfigDocument,
  hash: string,
  generation: number,
  deps: RuntimeDeps,
): Promise<Runtime> {
  const built: Array<{ entity: (typeof doc.plugins)[number]; instance: PluginInstance; priority: number }> =
    []
  for (const entity of doc.plugins) {
    if (!entity.enabled) continue
    const def = deps.registry.get(entity.name)
    if (def === undefined) throw new Error(`plugin '${entity.name}' is not available on this node`)
    const scope = { route: entity.route?.id, service: entity.service?.id, consumer: entity.consumer?.id }
    const instance = await def.create(entity.config as never, {
      id: entity.id,
      scope,
      document: doc,
      services: deps.services,
      log: deps.log.child({ plugin: entity.name, plugin_id: entity.id }),
    })
    built.push({ entity, instance, priority: def.priority })
  }

  const balancers = new Map<string, Balancer>()
  const upstreamsByName = new Map<string, UpstreamEntity>(doc.upstreams.map((u) => [u.name, u]))
  for (const u of doc.upstreams) {
    const targets = doc.targets.filter((t) => t.upstream.id === u.id)
    balancers.set(u.name, createBalancer(u, targets, deps.health))
  }

  const services = new Map<string, CompiledService>()
  for (const s of doc.services) {
    if (!s.enabled) continue
    services.set(s.id, compileService(s, upstreamsByName.get(s.host), balancers, generation, deps))
  }

  const entries = doc.routes.map((route) => {
    const service = route.service ? (services.get(route.service.id) ?? null) : null
    const value: CompiledRoute = {
      info: { id: route.id, name: route.name },
      entity: route,
      service,
      chain: buildChain(built, route.id, route.service?.id ?? null),
      preserveHost: route.preserve_host,
      requestBuffering: route.request_buffering !== false,
      responseBuffering: route.response_buffering !== false,
    }
    return { route, value }
  })
  const router = buildRouter(entries)
  const unmatched = buildChain(
    built.filter((b) => !b.entity.route && !b.entity.service && !b.entity.consumer),
    null,
    null,
  )
  return new Runtime(
    generation,
    doc,
    hash,
    router,
    unmatched,
    balancers,
    built.map((b) => b.instance),
  )
}

function compileService(
  s: ServiceEntity,
  upstream: UpstreamEntity | undefined,
  balancers: Map<string, Balancer>,
  generation: number,
  deps: RuntimeDeps,
): CompiledService {
  const protocol = s.protocol === 'https' || s.protocol === 'wss' ? 'https' : 'http'
  const balancer = upstream
    ? balancers.get(upstream.name)!
    : singleTargetBalancer(s.host, s.port, { registry: deps.health })
  const pools = new Map<Target, Pool>()
  const hostHeaders = new Map<Target, string>()
  const defaultPort = protocol === 'https' ? 443 : 80
  for (const t of balancer.targets) {
    pools.set(
      t,
      deps.pools.use(
        {
          protocol,
          host: t.host,
          port: t.port,
          connectTimeout: s.connect_timeout,
          tlsVerify: s.tls_verify !== false,
        },
        generation,
      ),
    )
    // Kong: the upstream's host_header, else the target's host (with the port when not default)
    const h = upstream?.host_header ?? (upstream ? t.host : s.host)
    const port = upstream?.host_header ? defaultPort : t.port
    hostHeaders.set(t, port === defaultPort ? h : `${h.includes(':') ? `[${h}]` : h}:${port}`)
  }
  const path = s.path ?? ''
  return {
    info: { id: s.id, name: s.name },
    entity: s,
    protocol,
    basePath: path.endsWith('/') ? path.slice(0, -1) : path,
    balancer,
    pools,
    hostHeaders,
    retries: s.retries,
    retryBudget: deps.retries.of(balancer.upstream.name),
    readTimeout: s.read_timeout,
    writeTimeout: s.write_timeout,
    hashInput: upstream && upstream.algorithm === 'consistent-hashing' ? compileHashInput(upstream) : null,
  }
}

import type { Ref } from '../../core/entities.js'
import { findEntity } from '../constraints.js'
import { badRequest, isApiError, notFound } from '../errors.js'
import type { AdminCall } from '../http.js'
import { listOf, present } from '../kinds.js'
import { paginate } from '../paginate.js'
import { type AdminContext, noContent, ok } from './context.js'

/** The health of an upstream's targets as the data plane reports it (main provides it). */
export interface UpstreamHealthView {
  healthy: boolean
  targets: ReadonlyArray<{ target: string; weight: number; health: string }>
}

/** What the node tells the Admin API about itself. */
export interface NodeInfo {
  version: string
  nodeId: string
  hostname: string
  /** listeners and node settings, for `GET /` */
  configuration(): Record<string, unknown>
  /** connection counters, for `GET /status` */
  server(): Promise<Record<string, number>>
  /** the data plane's view of an upstream, by name */
  health(upstream: string): UpstreamHealthView | undefined
  /**
   * Kong's manual health override of one target (`target` as stored, `address` from the
   * `{address}` form of the path) on this node, its workers included; why not, or null.
   */
  setHealth?(upstream: string, target: string, address: string | undefined, healthy: boolean): string | null
  /** the node's Prometheus text for `GET /metrics` (Kong serves it on the Admin API too); null when metrics are off */
  metrics?(): Promise<{ contentType: string; text: string } | null>
}

function root(ctx: AdminContext, node: NodeInfo) {
  const available: Record<string, { priority: number; version: string }> = {}
  for (const name of ctx.plugins.names()) {
    available[name] = { priority: ctx.plugins.get(name)?.priority ?? 0, version: node.version }
  }
  const enabled = [...new Set(ctx.cp.document.plugins.map((p) => p.name))].sort()
  return ok({
    tagline: 'Welcome to Portico',
    version: node.version,
    hostname: node.hostname,
    node_id: node.nodeId,
    plugins: { available_on_server: available, enabled_in_cluster: enabled },
    configuration: {
      database: ctx.cp.mode === 'memory' ? 'off' : 'redis',
      config_store: ctx.cp.mode,
      ...node.configuration(),
    },
  })
}

async function status(ctx: AdminContext, node: NodeInfo) {
  const store = ctx.cp.status()
  const memory = process.memoryUsage()
  return ok({
    database: { reachable: store.config_store_status === 'ok' },
    server: await node.server(),
    memory: { rss: memory.rss, heap_used: memory.heapUsed, heap_total: memory.heapTotal },
    configuration_hash: ctx.cp.hash,
    config_store: store,
    registry: { instances: ctx.cp.registry.instances.length },
  })
}

/** Kong's `/upstreams/{u}/health`: each target with its health as this node sees it. */
function upstreamHealth(ctx: AdminContext, node: NodeInfo, call: AdminCall) {
  const upstream = findEntity(ctx.cp.document, 'upstreams', call.params.upstream as string)
  if (upstream === undefined) return notFound()
  const view = node.health(upstream.name as string)
  if (call.query.get('balancer_health') === '1') {
    return ok({
      id: upstream.id,
      data: { health: view?.healthy === false ? 'UNHEALTHY' : 'HEALTHY', id: upstream.id },
      node_id: node.nodeId,
    })
  }
  const targets = listOf(ctx.cp.document, 'targets').filter(
    (t) => (t.upstream as Ref | undefined)?.id === upstream.id,
  )
  // Kong lists an upstream's health newest target first
  const data = targets.reverse().map((t) => ({
    ...present('targets', t),
    health: view?.targets.find((v) => v.target === t.target)?.health ?? 'HEALTHCHECKS_OFF',
  }))
  return ok({ data, next: null, node_id: node.nodeId })
}

/**
 * Kong's `PUT /upstreams/{u}/targets/{t}[/{address}]/healthy|unhealthy`: 404 unless the target
 * (by id or `host:port`) belongs to the upstream (by id or name), 400 with the reason when the
 * balancer cannot take it (no health checks on the upstream), else 204.
 */
function setTargetHealth(ctx: AdminContext, node: NodeInfo, call: AdminCall, healthy: boolean) {
  const upstream = findEntity(ctx.cp.document, 'upstreams', call.params.upstream as string)
  if (upstream === undefined) return notFound()
  const scope = { field: 'upstream', id: upstream.id as string }
  const target = findEntity(ctx.cp.document, 'targets', call.params.target as string, scope)
  if (target === undefined || node.setHealth === undefined) return notFound()
  const address = call.params.address as string | undefined
  const refused = node.setHealth(upstream.name as string, target.target as string, address, healthy)
  return refused === null ? noContent() : badRequest(refused)
}

/** `GET /`, `/status`, `/endpoints`, `/metrics`, plugin listings, upstream health. */
export function mountNode(ctx: AdminContext, node: NodeInfo): void {
  const r = ctx.router
  r.add('GET', '/', () => root(ctx, node))
  r.add('GET', '/status', () => status(ctx, node))
  r.add('GET', '/endpoints', () => ok({ data: r.patterns().map((p) => p.path) }))
  r.add('GET', '/plugins/enabled', () => ok({ enabled_plugins: ctx.plugins.names() }))
  r.add('GET', '/metrics', async () => {
    const scraped = (await node.metrics?.()) ?? null
    if (scraped === null)
      return { status: 404, body: { message: 'metrics are off on this node (PORTICO_METRICS=off)' } }
    return { status: 200, body: scraped.text, headers: { 'content-type': scraped.contentType } }
  })
  r.add('GET', '/upstreams/:upstream/health', (call) => upstreamHealth(ctx, node, call))
  for (const [verdict, healthy] of [
    ['healthy', true],
    ['unhealthy', false],
  ] as const) {
    const set = (call: AdminCall) => setTargetHealth(ctx, node, call, healthy)
    r.add('PUT', `/upstreams/:upstream/targets/:target/${verdict}`, set)
    r.add('PUT', `/upstreams/:upstream/targets/:target/:address/${verdict}`, set)
  }
  r.add('GET', '/upstreams/:upstream/targets/all', (call) => {
    const upstream = findEntity(ctx.cp.document, 'upstreams', call.params.upstream as string)
    if (upstream === undefined) return notFound()
    const targets = listOf(ctx.cp.document, 'targets').filter(
      (t) => (t.upstream as Ref | undefined)?.id === upstream.id,
    )
    const page = paginate(targets as Array<{ id: string }>, call.query, call.path.replace(/\/+$/, ''))
    if (isApiError(page)) return page
    // Kong's `next` for this endpoint carries the offset only (targets.lua page_for_upstream)
    const next = page.next === null ? null : page.next.replace(/&size=\d+/, '')
    return ok({ ...page, next, data: page.data.map((t) => present('targets', t as Record<string, unknown>)) })
  })
}

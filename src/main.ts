import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type http from 'node:http'
import { hostname } from 'node:os'
import { parseDeclarative } from './config/declarative.js'
import { configHash } from './config/hash.js'
import {
  assertAdminBinding,
  ControlPlane,
  createAdminApi,
  type NodeInfo,
  UpstreamPolicy,
} from './control-plane/index.js'
import { type ConfigDocument, type ConfigIssue, emptyDocument } from './core/entities.js'
import type { Logger } from './core/logger.js'
import type { PluginRegistry } from './core/plugin.js'
import { Gateway, type Limits } from './data-plane/gateway.js'
import { type PoolDefaults, PoolRegistry } from './data-plane/pools.js'
import { compileRuntime, type Runtime } from './data-plane/runtime.js'
import {
  createPlainServer,
  createProxyServer,
  DEFAULT_SERVER_LIMITS,
  drain,
  listen,
  type ServerLimits,
} from './data-plane/server.js'
import { createStatusHandler, type StatusRoute, sendJson } from './data-plane/status.js'
import { TrustedProxies } from './data-plane/trust.js'
import { HealthRegistry } from './data-plane/upstream/health-registry.js'
import type { AccessLogTarget } from './observability/access-log.js'
import { createObservability, type Observability } from './observability/observer.js'
import type { NodeView } from './observability/prometheus.js'
import { createRegistry } from './plugins/index.js'
import { NodeServices } from './stores/services.js'

export interface Address {
  host: string
  port: number
}

/** Node-level settings (flags and `PORTICO_*`; DESIGN §2.1). Entities never come from here. */
export interface NodeSettings {
  proxy: Address
  status: Address | null
  /** the Admin API's address; null for none (the control plane still runs) */
  admin: Address | null
  /** required when `admin` is not a loopback address */
  adminToken: string | undefined
  /** hosts the Admin API may point services and targets at (PORTICO_ADMIN_ALLOWED_UPSTREAMS) */
  adminAllowedUpstreams: string | undefined
  /** where entities live: this node's memory, or Redis shared by every node */
  configStore: 'memory' | 'redis'
  /** the declarative file to load (and reload on SIGHUP / --watch) */
  declarativeConfig: string | undefined
  redisUrl: string | undefined
  keyPrefix: string
  redisDeadlineMs: number
  trustedIps: string | undefined
  limits: Limits
  server: ServerLimits
  /** connections per upstream origin, and requests that may wait for one (beyond: 503) */
  upstreamPool: Pick<PoolDefaults, 'connections' | 'queue'>
  /** how long SIGTERM waits for in-flight requests (ms) */
  drainTimeoutMs: number
  /** also answer /metrics and /cachez on the proxy listener */
  statusOnProxy: boolean
  /** record request metrics and serve `/metrics` (`PORTICO_METRICS`; needs a listener to serve it on) */
  metrics: boolean
  /** `PORTICO_ACCESS_LOG`: off, stdout, or a file path */
  accessLog: AccessLogTarget
  /** `PORTICO_OTLP_ENDPOINT`: export a span per request to this OpenTelemetry collector (OTLP/HTTP JSON) */
  otlpEndpoint: string | undefined
}

export const DEFAULT_SETTINGS: NodeSettings = {
  proxy: { host: '0.0.0.0', port: 8000 },
  status: { host: '127.0.0.1', port: 8100 },
  // the CLI listens on 127.0.0.1:8001; embedded nodes (tests, benchmarks) only when asked
  admin: null,
  adminToken: undefined,
  adminAllowedUpstreams: undefined,
  configStore: 'memory',
  declarativeConfig: undefined,
  redisUrl: undefined,
  keyPrefix: 'portico:',
  redisDeadlineMs: 50,
  trustedIps: undefined,
  limits: { maxUrlLength: 8192, maxHeaders: 100, maxBodySize: 128 * 1024 * 1024 },
  server: DEFAULT_SERVER_LIMITS,
  upstreamPool: { connections: 128, queue: 1024 },
  drainTimeoutMs: 30_000,
  statusOnProxy: false,
  metrics: true,
  accessLog: 'off',
  otlpEndpoint: undefined,
}

export type LoadResult = { ok: true; runtime: Runtime } | { ok: false; issues: ConfigIssue[] }

/** A running gateway node. */
export interface PorticoNode {
  readonly gateway: Gateway
  readonly proxy: Address
  readonly status: Address | null
  /** the Admin API's bound address, when it listens */
  readonly admin: Address | null
  readonly services: NodeServices
  readonly registry: PluginRegistry
  /** metrics, access log and span export, as the settings turned them on */
  readonly observability: Observability
  /** the stored entities, the config store and the service registry */
  readonly controlPlane: ControlPlane
  /** memory store: re-read the declarative file (an invalid file changes nothing); redis: catch up with the store */
  reload(): Promise<LoadResult>
  /** compile and swap to a document (validated already) */
  apply(doc: ConfigDocument): Promise<Runtime>
  /** stop accepting, finish in-flight requests, release everything */
  stop(): Promise<void>
  /** add an endpoint to the status listener (and the proxy listener when status is exposed there) */
  mountStatus(path: string, route: StatusRoute): void
}

/**
 * Wires a node: services, plugin registry, the first runtime, the proxy and status listeners.
 *
 * @example
 *   const node = await startNode({ ...DEFAULT_SETTINGS, proxy: { host: '127.0.0.1', port: 0 }, declarativeConfig: 'portico.yaml' }, log)
 *   console.log(node.proxy.port)
 */
export async function startNode(
  settings: NodeSettings,
  log: Logger,
  registry: PluginRegistry = createRegistry(),
): Promise<PorticoNode> {
  const services = new NodeServices({
    redisUrl: settings.redisUrl,
    keyPrefix: settings.keyPrefix,
    redisDeadlineMs: settings.redisDeadlineMs,
  })
  const pools = new PoolRegistry(settings.upstreamPool)
  const health = new HealthRegistry()
  const deps = { registry, services, pools, health, log }
  let generation = 0
  let loadedAt = Date.now()

  const compile = async (doc: ConfigDocument, hash = configHash(doc)): Promise<Runtime> =>
    compileRuntime(doc, hash, ++generation, deps)

  const readDocument = async (): Promise<{ doc: ConfigDocument } | { issues: ConfigIssue[] }> => {
    const file = settings.declarativeConfig
    if (file === undefined) return { doc: emptyDocument() }
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      return { issues: [{ path: file, message: `cannot read: ${(err as Error).message}` }] }
    }
    const { document, issues } = parseDeclarative(text, registry)
    return document === null || issues.length > 0 ? { issues } : { doc: document }
  }

  const first = await readDocument()
  if ('issues' in first) {
    throw new Error(
      `invalid configuration:\n${first.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    )
  }
  if (settings.admin !== null) assertAdminBinding(settings.admin, settings.adminToken)
  const policy = UpstreamPolicy.parse(settings.adminAllowedUpstreams)
  const controlPlane = ControlPlane.create({
    mode: settings.configStore,
    redisUrl: settings.redisUrl,
    keyPrefix: settings.keyPrefix,
    plugins: registry,
    policy,
    log: log.child({ part: 'control-plane' }),
    validator: `portico ${VERSION}; plugins ${registry.names().join(',')}`,
  })
  const startDocument = await controlPlane.start(settings.declarativeConfig === undefined ? null : first.doc)
  const gateway = new Gateway(
    await compile(startDocument),
    settings.limits,
    TrustedProxies.parse(settings.trustedIps),
    log,
  )

  const apply = async (doc: ConfigDocument, hash?: string): Promise<Runtime> => {
    const rt = await compile(doc, hash)
    gateway.swap(rt, (old) => pools.sweep(old.generation + 1))
    loadedAt = Date.now()
    log.info({ generation: rt.generation, hash: rt.hash.slice(0, 12) }, 'configuration applied')
    return rt
  }
  // every change the control plane accepts (Admin API, another node, the registry) lands here
  controlPlane.attach(async (doc, hash) => {
    await apply(doc, hash)
  })

  const reload = async (): Promise<LoadResult> => {
    if (settings.configStore === 'redis') {
      await controlPlane.sync()
      return { ok: true, runtime: gateway.runtime }
    }
    const next = await readDocument()
    if ('issues' in next) {
      log.error({ issues: next.issues }, 'reload refused: the current configuration keeps serving')
      return { ok: false, issues: next.issues }
    }
    const result = await controlPlane.replace(next.doc)
    if (result.ok) return { ok: true, runtime: gateway.runtime }
    const issue = { path: settings.declarativeConfig ?? '', message: String(result.error.body.message) }
    log.error({ issue }, 'reload refused: the current configuration keeps serving')
    return { ok: false, issues: [issue] }
  }

  const startedAt = Date.now()
  const statusHandler = createStatusHandler({
    gateway,
    services,
    startedAt,
    loadedAt: () => loadedAt,
    configStore: () => ({ ...controlPlane.status() }),
  })
  gateway.builtins.set('/healthz', statusHandler.healthz)
  gateway.builtins.set('/health', statusHandler.healthz)
  /** an endpoint on the status listener, and on the proxy listener when the node exposes it there */
  const mountStatus = (path: string, route: StatusRoute): void => {
    statusHandler.routes.set(path, route)
    if (settings.statusOnProxy) gateway.builtins.set(path, route)
  }
  const mountDocument = (path: string): void => {
    const render = services.statusDocuments.get(path)
    if (render === undefined) return
    mountStatus(path, (_req, res) => {
      Promise.resolve()
        .then(render)
        .then(
          (doc) => sendJson(res, 200, doc),
          (err: unknown) => sendJson(res, 500, { message: (err as Error).message }),
        )
    })
  }
  // nowhere to serve /metrics (status listener, proxy listener, Admin API): do not record them either
  const metricsOn =
    settings.metrics && (settings.status !== null || settings.statusOnProxy || settings.admin !== null)
  const observability = createObservability({
    metrics: metricsOn,
    accessLog: settings.accessLog,
    otlpEndpoint: settings.otlpEndpoint,
    view: nodeView(gateway, services, metricsOn ? settings.redisUrl : undefined, () => loadedAt),
    isBuiltin: (path) => gateway.builtins.has(path),
    log,
  })
  if (observability.observer !== null) gateway.observers.push(observability.observer)
  if (observability.metrics !== null) mountStatus('/metrics', observability.serveMetrics)
  for (const path of services.statusDocuments.keys()) mountDocument(path)
  services.events.on('status:exposed', (path) => mountDocument(path as string))

  const proxyServer = createProxyServer(gateway, settings.server)
  const proxy = await listen(proxyServer, settings.proxy.host, settings.proxy.port)
  let statusServer: http.Server | null = null
  let status: Address | null = null
  if (settings.status !== null) {
    statusServer = createPlainServer(statusHandler.handle, settings.server)
    status = await listen(statusServer, settings.status.host, settings.status.port)
  }
  let adminServer: http.Server | null = null
  let admin: Address | null = null
  if (settings.admin !== null) {
    const info = nodeInfo(settings, gateway, proxyServer, () => ({ proxy, status, admin }))
    const prometheus = observability.prometheus
    if (prometheus !== null)
      info.metrics = async () => ({ contentType: prometheus.contentType, text: await prometheus.render() })
    const listener = createAdminApi({
      controlPlane,
      plugins: registry,
      services,
      policy,
      node: info,
      log: log.child({ part: 'admin' }),
      token: settings.adminToken,
    })
    adminServer = createPlainServer(listener, settings.server)
    admin = await listen(adminServer, settings.admin.host, settings.admin.port)
  }
  log.info(
    { proxy, status, admin, config_store: settings.configStore, routes: gateway.runtime.router.size },
    'portico node started',
  )

  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([
        drain(proxyServer, gateway, settings.drainTimeoutMs),
        statusServer ? drain(statusServer, null, 1000) : undefined,
        adminServer ? drain(adminServer, null, 1000) : undefined,
      ])
      await controlPlane.close()
      gateway.runtime.close()
      health.close()
      await Promise.all([pools.close(), services.close(), observability.close()])
    })())

  return {
    gateway,
    proxy,
    status,
    admin,
    services,
    registry,
    controlPlane,
    observability,
    reload,
    apply,
    stop,
    mountStatus,
  }
}

/** The version Portico reports (`GET /`, `portico_node_info`, spans): package.json's. */
export const VERSION = (() => {
  try {
    const pkg = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
    return String((JSON.parse(pkg) as { version?: unknown }).version ?? '0.0.0')
  } catch {
    return '0.0.0'
  }
})()

/** What the Admin API reports about this node (`GET /`, `GET /status`, upstream health). */
function nodeInfo(
  settings: NodeSettings,
  gateway: Gateway,
  proxyServer: http.Server,
  listeners: () => Record<string, Address | null>,
): NodeInfo {
  let accepted = 0
  proxyServer.on('connection', () => {
    accepted++
  })
  const at = (a: Address | null) => (a === null ? [] : [`${a.host}:${a.port}`])
  return {
    version: VERSION,
    nodeId: randomUUID(),
    hostname: hostname(),
    configuration: () => {
      const l = listeners()
      return {
        proxy_listen: at(l.proxy ?? null),
        admin_listen: at(l.admin ?? null),
        status_listen: at(l.status ?? null),
        declarative_config: settings.declarativeConfig ?? null,
        redis: settings.redisUrl === undefined ? null : settings.redisUrl.replace(/\/\/[^@]*@/, '//***@'),
        admin_allowed_upstreams: settings.adminAllowedUpstreams ?? null,
      }
    },
    server: () =>
      new Promise((resolve) => {
        proxyServer.getConnections((_err, active) =>
          resolve({ connections_accepted: accepted, connections_active: active }),
        )
      }),
    health: (name) => gateway.runtime.balancers.get(name)?.describe(),
  }
}

/** What `/metrics` reads from the node at scrape time. */
function nodeView(
  gateway: Gateway,
  services: NodeServices,
  url: string | undefined,
  loadedAt: () => number,
): NodeView {
  // the node's own Redis is connected from the start when metrics report on it, so the first
  // scrape sees a connection, not one being opened
  if (url !== undefined) services.redis()
  return {
    version: VERSION,
    config: () => {
      const rt = gateway.runtime
      return { generation: rt.generation, hash: rt.hash, loadedAt: loadedAt(), document: rt.document }
    },
    upstreams: () => [...gateway.runtime.balancers.values()].map((b) => b.describe()),
    redis: () => services.redisStatus(),
    ping:
      url === undefined
        ? null
        : { url: url.replace(/\/\/[^@]*@/, '//***@'), run: () => services.redis().client.ping() },
  }
}

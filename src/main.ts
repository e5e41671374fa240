import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type http from 'node:http'
import type net from 'node:net'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  type Analytics,
  type AnalyticsSettings,
  analyticsOffRoutes,
  analyticsRoutes,
  createAnalytics,
  DEFAULT_ANALYTICS,
} from './analytics/index.js'
import { parseDeclarative } from './config/declarative.js'
import { configHash } from './config/hash.js'
import {
  acceptRawTargets,
  assertAdminBinding,
  ControlPlane,
  createAdminApi,
  type NodeInfo,
  UpstreamPolicy,
} from './control-plane/index.js'
import { type ConfigDocument, type ConfigIssue, emptyDocument } from './core/entities.js'
import type { Logger } from './core/logger.js'
import type { NodePeers } from './core/peers.js'
import type { PluginRegistry } from './core/plugin.js'
import { defaultKeyPair } from './data-plane/default-cert.js'
import { createEdge, type EdgeTls, type ListenSpec } from './data-plane/edge.js'
import { BODY_BUFFER_DEFAULTS, Gateway, type Limits } from './data-plane/gateway.js'
import {
  createH2Server,
  DEFAULT_H2_LIMITS,
  drainH2,
  type H2Limits,
  type H2Server,
  type H2Stats,
} from './data-plane/h2.js'
import { OcspStapler } from './data-plane/ocsp.js'
import { type PoolDefaults, PoolRegistry } from './data-plane/pools.js'
import { RetryBudgets } from './data-plane/retry.js'
import { compileRuntime, type Runtime, type RuntimeDeps } from './data-plane/runtime.js'
import {
  createPlainServer,
  createProxyServer,
  createTlsServer,
  DEFAULT_SERVER_LIMITS,
  drain,
  listen,
  type ServerLimits,
} from './data-plane/server.js'
import { createStatusHandler, type StatusRoute, sendJson } from './data-plane/status.js'
import {
  contextOptions,
  DEFAULT_CIPHERS,
  defaultTlsOptions,
  type KeyPair,
  SecureContexts,
} from './data-plane/tls.js'
import { TrustedProxies } from './data-plane/trust.js'
import { HealthRegistry } from './data-plane/upstream/health-registry.js'
import { parseTarget } from './data-plane/upstream/target.js'
import type { Balancer } from './data-plane/upstream/types.js'
import type { AccessLogTarget } from './observability/access-log.js'
import { createObservability, type Observability } from './observability/observer.js'
import { type NodeView, PING_BOUND_MS } from './observability/prometheus.js'
import { registerPlugins } from './observability/telemetry.js'
import type { NodeTotals } from './observability/totals.js'
import { createRegistry } from './plugins/index.js'
import { NodeServices } from './stores/services.js'
import { healthShare, joinNode, workerSync } from './workers/join.js'

type WorkerLink = ReturnType<typeof joinNode>

export interface Address {
  host: string
  port: number
  /** TLS on this address (admin and status listeners; proxy listeners say it in `proxyListen`) */
  ssl?: boolean
}

/** The TLS side of the node: the listeners' default certificate and their cipher list. */
export interface SslSettings {
  /** PEM text or file (`PORTICO_SSL_CERT`); unset: a self-signed certificate made at start */
  cert: string | undefined
  key: string | undefined
  ciphers: string
  /** session-ticket keys (48 bytes) shared by a node's workers; unset: random per process */
  ticketKeys?: Buffer | undefined
}

/** Node-level settings (flags and `PORTICO_*`; DESIGN §2.1). Entities never come from here. */
export interface NodeSettings {
  /** the first proxy listener (embedded nodes give only this: plain HTTP/1.1) */
  proxy: Address
  /** every proxy listener in Kong's syntax (`PORTICO_PROXY_LISTEN`); absent: `proxy` alone */
  proxyListen?: ListenSpec[] | undefined
  ssl: SslSettings
  /** HTTP/2 limits of the proxy listeners */
  h2: H2Limits
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
  /** usage analytics (`PORTICO_ANALYTICS`, on by default); null: off, no observer installed */
  analytics: AnalyticsSettings | null
  /** the admin UI's built assets (served under `/ui/` on the admin listener); null: no UI */
  uiDir: string | null
}

export const DEFAULT_SETTINGS: NodeSettings = {
  proxy: { host: '0.0.0.0', port: 8000 },
  ssl: { cert: undefined, key: undefined, ciphers: DEFAULT_CIPHERS },
  h2: DEFAULT_H2_LIMITS,
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
  limits: {
    maxUrlLength: 8192,
    maxHeaders: 100,
    maxBodySize: 128 * 1024 * 1024,
    underscoresInHeaders: false,
    ...BODY_BUFFER_DEFAULTS,
  },
  server: DEFAULT_SERVER_LIMITS,
  upstreamPool: { connections: 128, queue: 1024 },
  drainTimeoutMs: 30_000,
  statusOnProxy: false,
  metrics: true,
  accessLog: 'off',
  otlpEndpoint: undefined,
  analytics: DEFAULT_ANALYTICS,
  uiDir: fileURLToPath(new URL('../ui/', import.meta.url)),
}

export type LoadResult = { ok: true; runtime: Runtime } | { ok: false; issues: ConfigIssue[] }

/** A running gateway node. */
export interface PorticoNode {
  readonly gateway: Gateway
  /** the first proxy listener's bound address */
  readonly proxy: Address
  /** every proxy listener, bound (port 0 resolved), in the order of `proxyListen` */
  readonly listeners: ReadonlyArray<ListenSpec>
  /** HTTP/2 sessions served and cut by the rapid-reset guard, failed TLS handshakes */
  readonly h2: H2Stats
  /** OCSP stapling of the TLS listeners (`fetches`: responder lookups so far) */
  readonly ocsp: OcspStapler
  readonly status: Address | null
  /** the Admin API's bound address, when it listens */
  readonly admin: Address | null
  readonly services: NodeServices
  readonly registry: PluginRegistry
  /** metrics, access log and span export, as the settings turned them on */
  readonly observability: Observability
  /** usage analytics, null when off */
  readonly analytics: Analytics | null
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

/** Reads and checks the declarative file; an empty document when the node has none. */
async function readDeclarative(
  file: string | undefined,
  registry: PluginRegistry,
): Promise<{ doc: ConfigDocument } | { issues: ConfigIssue[] }> {
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

/** What the node is made of before it listens; each step below adds to it. */
interface Parts {
  settings: NodeSettings
  log: Logger
  registry: PluginRegistry
  services: NodeServices
  pools: PoolRegistry
  health: HealthRegistry
  /** retry budgets per upstream, kept across reloads like health */
  retries: RetryBudgets
  controlPlane: ControlPlane
  policy: UpstreamPolicy
  gateway: Gateway
  /** secure contexts by content, shared by runtimes (the TLS listeners' SNI table) */
  contexts: SecureContexts
  /** OCSP responses stapled on the TLS listeners */
  ocsp: OcspStapler
  nodeId: string
  /** when the running configuration was applied (ms since the epoch) */
  loadedAt: number
  /** compilations so far: each runtime's generation, unique even when a compile fails */
  generation: number
  /** the node's primary when this process is one of its workers (`--workers`) */
  peers: NodePeers | null
  /** tells the primary which runtime this worker runs (workers only) */
  reportRuntime: (generation: number, hash: string) => void
}

/**
 * The control plane and the first runtime: the declarative file (refused whole when invalid),
 * the entity store, the gateway on the compiled document, and every later change swapped in.
 */
async function startConfiguration(
  settings: NodeSettings,
  log: Logger,
  registry: PluginRegistry,
  peers: NodePeers | null,
): Promise<Parts> {
  const services = new NodeServices({
    redisUrl: settings.redisUrl,
    keyPrefix: settings.keyPrefix,
    redisDeadlineMs: settings.redisDeadlineMs,
    log: log.child({ part: 'redis' }),
    peers: peers ?? undefined,
  })
  const first = await readDeclarative(settings.declarativeConfig, registry)
  if ('issues' in first) {
    throw new Error(
      `invalid configuration:\n${first.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    )
  }
  if (settings.admin !== null) assertAdminBinding(settings.admin, settings.adminToken)
  const policy = UpstreamPolicy.parse(settings.adminAllowedUpstreams)
  const validator = `portico ${VERSION}; plugins ${registry.names().join(',')}`
  const controlPlane = ControlPlane.create({
    mode: settings.configStore,
    redis: settings.configStore === 'redis' ? (services.nodeRedis() ?? undefined) : undefined,
    keyPrefix: settings.keyPrefix,
    plugins: registry,
    policy,
    log: log.child({ part: 'control-plane' }),
    validator,
    workers: peers === null ? undefined : workerSync(peers, settings.configStore === 'memory', validator),
  })
  const startDocument = await controlPlane.start(settings.declarativeConfig === undefined ? null : first.doc)
  const pools = new PoolRegistry(settings.upstreamPool)
  const health = new HealthRegistry(peers === null ? {} : { share: healthShare(peers) })
  const retries = new RetryBudgets()
  const contexts = new SecureContexts(defaultTlsOptions(settings.ssl.ciphers, settings.ssl.ticketKeys))
  const rt = await compileRuntime(
    startDocument,
    configHash(startDocument),
    1,
    runtimeDeps({ registry, services, pools, health, retries, log, contexts }),
  )
  const gateway = new Gateway(rt, settings.limits, TrustedProxies.parse(settings.trustedIps), log)
  const parts: Parts = {
    settings,
    log,
    registry,
    services,
    pools,
    health,
    retries,
    controlPlane,
    policy,
    gateway,
    contexts,
    ocsp: new OcspStapler(),
    nodeId: randomUUID(),
    loadedAt: Date.now(),
    generation: 1,
    peers,
    reportRuntime: () => {},
  }
  // every change the control plane accepts (Admin API, another node, the registry) lands here
  controlPlane.attach(async (doc, hash) => {
    await applyDocument(parts, doc, hash)
  })
  return parts
}

/** What every runtime of the node is compiled with: the parts kept across reloads. */
function runtimeDeps(
  p: Pick<Parts, 'registry' | 'services' | 'pools' | 'health' | 'retries' | 'log' | 'contexts'>,
): RuntimeDeps {
  const { registry, services, pools, health, retries, log, contexts } = p
  return { registry, services, pools, health, retries, log, tls: contexts }
}

/** Compiles a document into the next runtime and swaps it in; the old one drains. */
async function applyDocument(parts: Parts, doc: ConfigDocument, hash = configHash(doc)): Promise<Runtime> {
  const { gateway, pools, contexts, log } = parts
  const rt = await compileRuntime(doc, hash, ++parts.generation, runtimeDeps(parts))
  gateway.swap(rt, (old) => {
    pools.sweep(old.generation + 1)
    contexts.sweep(old.generation + 1)
  })
  parts.loadedAt = Date.now()
  parts.reportRuntime(rt.generation, rt.hash)
  log.info({ generation: rt.generation, hash: rt.hash.slice(0, 12) }, 'configuration applied')
  return rt
}

/** SIGHUP / --watch: memory store re-reads the file (an invalid one changes nothing); redis catches up. */
async function reloadConfiguration(parts: Parts): Promise<LoadResult> {
  const { settings, controlPlane, gateway, log } = parts
  if (settings.configStore === 'redis') {
    await controlPlane.sync()
    return { ok: true, runtime: gateway.runtime }
  }
  const next = await readDeclarative(settings.declarativeConfig, parts.registry)
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

/**
 * The status endpoints (`/healthz`, `/health`, and the JSON documents plugins expose), and the
 * function that mounts one on the status listener (and the proxy listener when asked).
 */
function statusEndpoints(parts: Parts, worker: WorkerLink | null) {
  const { settings, gateway, services, controlPlane } = parts
  const handler = createStatusHandler({
    gateway,
    services,
    startedAt: Date.now(),
    loadedAt: () => parts.loadedAt,
    configStore: () => ({ ...controlPlane.status() }),
    workers: worker === null ? undefined : () => worker.workers(),
  })
  gateway.builtins.set('/healthz', handler.publicHealthz)
  gateway.builtins.set('/health', handler.publicHealthz)
  const mount = (path: string, route: StatusRoute): void => {
    handler.routes.set(path, route)
    if (settings.statusOnProxy) gateway.builtins.set(path, route)
  }
  const mountDocument = (path: string): void => {
    const render = services.statusDocuments.get(path)
    if (render === undefined) return
    mount(path, (_req, res) => {
      Promise.resolve()
        .then(render)
        .then(
          (doc) => sendJson(res, 200, doc),
          (err: unknown) => sendJson(res, 500, { message: (err as Error).message }),
        )
    })
  }
  for (const path of services.statusDocuments.keys()) mountDocument(path)
  services.events.on('status:exposed', (path) => mountDocument(path as string))
  return { handler, mount }
}

/**
 * Metrics, access log and spans as the settings ask, with every plugin's series registered.
 * Nowhere to serve /metrics (status listener, proxy listener, Admin API): nothing is recorded.
 */
function startObservability(
  parts: Parts,
  connections: ProxyConnections,
  mount: (p: string, r: StatusRoute) => void,
  worker: WorkerLink | null,
) {
  const { settings, gateway, services, log } = parts
  const metricsOn =
    settings.metrics && (settings.status !== null || settings.statusOnProxy || settings.admin !== null)
  const observability = createObservability({
    metrics: metricsOn,
    accessLog: settings.accessLog,
    otlpEndpoint: settings.otlpEndpoint,
    view: nodeView(
      parts,
      connections,
      metricsOn ? settings.redisUrl : undefined,
      () => observability.metrics,
    ),
    isBuiltin: (path) => gateway.builtins.has(path),
    log,
  })
  registerPlugins(parts.registry, observability.telemetry, services)
  if (observability.observer !== null) gateway.observers.push(observability.observer)
  if (observability.metrics !== null)
    mount('/metrics', worker === null ? observability.serveMetrics : nodeMetrics(worker, observability))
  return observability
}

/** A worker's `/metrics`: the node's, merged by the primary from every worker's own. */
function nodeMetrics(worker: WorkerLink, observability: Observability): StatusRoute {
  const type = observability.prometheus?.contentType ?? 'text/plain; version=0.0.4; charset=utf-8'
  return (_req, res) => {
    worker.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
        res.end(text)
      },
      (err: unknown) => sendJson(res, 503, { message: `metrics unavailable: ${(err as Error).message}` }),
    )
  }
}

/**
 * Usage analytics, on Redis when the node has one. Nowhere to read them (no Admin API here, no
 * Redis shared with one): nothing is recorded.
 */
function startAnalytics(parts: Parts, observability: Observability): Analytics | null {
  const { settings, gateway, services, log } = parts
  if (settings.analytics === null || (settings.admin === null && settings.redisUrl === undefined)) return null
  const analytics = createAnalytics({
    settings: settings.analytics,
    redis: settings.redisUrl === undefined ? null : services.redis(),
    peers: parts.peers,
    keyPrefix: settings.keyPrefix,
    nodeId: parts.nodeId,
    hostname: hostname(),
    config: () => gateway.runtime,
    isBuiltin: (path) => gateway.builtins.has(path),
    log: log.child({ part: 'analytics' }),
    // the values plugins declared as cache hits when they registered their outcomes
    cacheHits: observability.telemetry.outcomes.flatMap((o) =>
      o.series.cacheHit === undefined ? [] : [{ slot: o.slot, value: o.series.cacheHit }],
    ),
  })
  gateway.observers.push(analytics.observer)
  return analytics
}

/** The Admin API's listener, when the node has one (it serves `/metrics` too, as Kong's does). */
function adminListener(
  parts: Parts,
  connections: ProxyConnections,
  observability: Observability,
  analytics: Analytics | null,
  listeners: () => Record<string, Address | null>,
  worker: WorkerLink | null,
) {
  const { settings, registry, services, controlPlane, policy, log } = parts
  const info = nodeInfo(parts, connections, listeners)
  const prometheus = observability.prometheus
  if (prometheus !== null)
    info.metrics = async () => ({
      contentType: prometheus.contentType,
      text: worker === null ? await prometheus.render() : await worker.metrics(),
    })
  return createAdminApi({
    controlPlane,
    plugins: registry,
    services,
    policy,
    node: info,
    log: log.child({ part: 'admin' }),
    token: settings.adminToken,
    routes: analytics === null ? analyticsOffRoutes() : analyticsRoutes(analytics),
    uiDir: settings.uiDir,
  })
}

/**
 * Wires a node: services, plugin registry, the first runtime, the proxy, status and admin
 * listeners, each step a function above.
 *
 * @example
 *   const node = await startNode({ ...DEFAULT_SETTINGS, proxy: { host: '127.0.0.1', port: 0 }, declarativeConfig: 'portico.yaml' }, log)
 *   console.log(node.proxy.port)
 */
export async function startNode(
  settings: NodeSettings,
  log: Logger,
  registry: PluginRegistry = createRegistry(),
  peers: NodePeers | null = null,
): Promise<PorticoNode> {
  const parts = await startConfiguration(settings, log, registry, peers)
  const { gateway, services, controlPlane, health, pools } = parts
  let render: () => Promise<string> = async () => ''
  const worker =
    peers === null
      ? null
      : joinNode(peers, { render: () => render(), reload: () => reloadConfiguration(parts), log })
  if (worker !== null) {
    parts.reportRuntime = worker.runtime
    worker.runtime(gateway.runtime.generation, gateway.runtime.hash)
  }
  const status = statusEndpoints(parts, worker)
  const proxyServer = createProxyServer(gateway, settings.server)
  const h2 = createH2Server(gateway, settings.server, settings.h2)
  const connections = countConnections(proxyServer, gateway)
  const observability = startObservability(parts, connections, status.mount, worker)
  const prometheus = observability.prometheus
  if (prometheus !== null) render = () => prometheus.render()
  const analytics = startAnalytics(parts, observability)

  const specs = settings.proxyListen ?? [{ ...settings.proxy, ssl: false, http2: false }]
  const usesTls = specs.some((l) => l.ssl) || settings.admin?.ssl === true || settings.status?.ssl === true
  const pair = usesTls ? await defaultKeyPair(settings.ssl.cert, settings.ssl.key) : null
  const edges = await proxyListeners(parts, specs, proxyServer, h2, pair)
  const proxy: Address = { host: edges.bound[0]!.host, port: edges.bound[0]!.port }
  const statusServer =
    settings.status === null
      ? null
      : sideServer(settings.status, status.handler.handle, settings, pair, parts)
  const statusAt =
    statusServer === null ? null : await listen(statusServer, settings.status!.host, settings.status!.port)
  let admin: Address | null = null
  const adminServer =
    settings.admin === null
      ? null
      : adminSide(
          sideServer(
            settings.admin,
            adminListener(
              parts,
              connections,
              observability,
              analytics,
              () => ({ proxy, status: statusAt, admin }),
              worker,
            ),
            settings,
            pair,
            parts,
          ),
          settings.admin,
        )
  if (adminServer !== null) admin = await listen(adminServer, settings.admin!.host, settings.admin!.port)
  log.info(
    {
      proxy,
      status: statusAt,
      admin,
      config_store: settings.configStore,
      routes: gateway.runtime.router.size,
    },
    'portico node started',
  )
  worker?.ready({ proxy, status: statusAt, admin })

  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const front of edges.fronts) front.close()
      await Promise.all([
        drain(proxyServer, gateway, settings.drainTimeoutMs),
        drainH2(h2, settings.drainTimeoutMs),
        statusServer ? drain(statusServer, null, 1000) : undefined,
        adminServer ? drain(adminServer, null, 1000) : undefined,
      ])
      // a worker's counters after its last scrape: handed over so the node's sums never go down
      await worker?.final()
      await Promise.all([controlPlane.close(), analytics?.close()])
      gateway.runtime.close()
      health.close()
      // what closing told the primary (plugins' node-wide state, e.g. quota given back) arrives
      await worker?.bye()
      await Promise.all([pools.close(), services.close(), observability.close()])
    })())

  return {
    gateway,
    proxy,
    listeners: edges.bound,
    h2: h2.stats,
    ocsp: parts.ocsp,
    status: statusAt,
    admin,
    services,
    registry,
    controlPlane,
    observability,
    analytics,
    reload: () => reloadConfiguration(parts),
    apply: (doc) => applyDocument(parts, doc),
    stop,
    mountStatus: status.mount,
  }
}

/**
 * The proxy listeners: the first plain HTTP/1.1 one is the HTTP/1.1 server itself (as before
 * TLS existed); every other one is a front ({@link createEdge}) that hands its connections to
 * that server or to the HTTP/2 one. The SNI callback reads the current runtime's certificates.
 */
async function proxyListeners(
  parts: Parts,
  specs: ListenSpec[],
  http1: http.Server,
  h2: H2Server,
  pair: KeyPair | null,
): Promise<{ bound: ListenSpec[]; fronts: net.Server[] }> {
  const { gateway, settings, log } = parts
  const edgeTls: EdgeTls | null =
    pair === null
      ? null
      : {
          options: parts.contexts.options,
          defaultPair: pair,
          select: (name) => gateway.runtime.certificates.select(name),
          onHandshakeError: () => {
            h2.stats.tlsHandshakeErrors++
          },
          ocsp: parts.ocsp,
        }
  const bound: ListenSpec[] = []
  const fronts: net.Server[] = []
  let direct = false
  for (const spec of specs) {
    if (!spec.ssl && !spec.http2 && !direct) {
      direct = true
      const at = await listen(http1, spec.host, spec.port)
      bound.push({ ...spec, ...at })
      continue
    }
    const front = createEdge(spec, http1, h2, edgeTls, settings.server.headersTimeout)
    fronts.push(front)
    const at = await listen(front, spec.host, spec.port)
    bound.push({ ...spec, ...at })
  }
  // node:http starts its timeout checks (headers, request, idle) when it listens: a server that
  // only receives connections from fronts starts them here
  if (!direct) http1.emit('listening')
  log.debug({ listeners: bound }, 'proxy listeners')
  return { bound, fronts }
}

/** The status or admin listener: plain, or TLS with the node's default certificate. */
/**
 * The admin listener takes raw UTF-8 bytes in its request lines (Kong's `/services/円`) when it
 * speaks plain HTTP; a TLS admin gets Node's parser as it is (the filter works on the bytes of
 * the connection, which are TLS records there).
 */
function adminSide(server: http.Server, at: Address): http.Server {
  return at.ssl === true ? server : acceptRawTargets(server)
}

function sideServer(
  at: Address,
  handler: http.RequestListener,
  settings: NodeSettings,
  pair: KeyPair | null,
  parts: Parts,
): http.Server {
  if (at.ssl !== true || pair === null) return createPlainServer(handler, settings.server)
  return createTlsServer(handler, settings.server, contextOptions(pair, parts.contexts.options))
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

/** The proxy listener's connections (Kong's nginx figures, Node's view). */
interface ProxyConnections {
  accepted(): number
  active(): Promise<number>
  /** requests in progress (a response not finished yet) */
  busy(): number
}

function countConnections(proxyServer: http.Server, gateway: Gateway): ProxyConnections {
  let accepted = 0
  proxyServer.on('connection', () => {
    accepted++
  })
  return {
    accepted: () => accepted,
    active: () => new Promise((resolve) => proxyServer.getConnections((_err, n) => resolve(n ?? 0))),
    busy: () => gateway.inProgress,
  }
}

/** What the Admin API reports about this node (`GET /`, `GET /status`, upstream health). */
function nodeInfo(
  parts: Parts,
  connections: ProxyConnections,
  listeners: () => Record<string, Address | null>,
): NodeInfo {
  const { settings, gateway } = parts
  const at = (a: Address | null) => (a === null ? [] : [`${a.host}:${a.port}`])
  return {
    version: VERSION,
    nodeId: parts.nodeId,
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
    server: async () => ({
      connections_accepted: connections.accepted(),
      connections_active: await connections.active(),
    }),
    health: (name) => gateway.runtime.balancers.get(name)?.describe(),
    setHealth: (upstream, target, address, healthy) =>
      setTargetHealth(gateway.runtime.balancers.get(upstream), upstream, target, address, healthy),
  }
}

/**
 * Kong's manual override on the balancer of the running config (which tells the other
 * workers). An `{address}` names the target itself: its IP and port, or its host name; Portico
 * balances a target as one address, so another IP of a host name cannot be set apart.
 */
function setTargetHealth(
  balancer: Balancer | undefined,
  upstream: string,
  target: string,
  address: string | undefined,
  healthy: boolean,
): string | null {
  if (balancer === undefined) return `Upstream ${upstream} has no balancer`
  const own = parseTarget(target)
  if (address !== undefined) {
    let given: ReturnType<typeof parseTarget>
    try {
      given = parseTarget(address)
    } catch {
      return `invalid address '${address}'`
    }
    if (isIP(given.host) !== 0 && given.address !== own.address)
      return `${given.address} is not the address of target ${target}: Portico balances a target as one address`
  }
  return balancer.setHealth(own.address, healthy)
}

/** What `/metrics` reads from the node at scrape time. */
function nodeView(
  parts: Parts,
  connections: ProxyConnections,
  url: string | undefined,
  totals: () => NodeTotals | null,
): NodeView {
  const { gateway, services, controlPlane } = parts
  // the node's own Redis is connected from the start when metrics report on it, so the first
  // scrape sees a connection, not one being opened
  const own = url === undefined ? null : services.nodeRedis()
  return {
    nodeId: parts.nodeId,
    version: VERSION,
    document: () => gateway.runtime.document,
    config: () => {
      const rt = gateway.runtime
      return { generation: rt.generation, hash: rt.hash, loadedAt: parts.loadedAt }
    },
    upstreams: () => [...gateway.runtime.balancers.values()].map((b) => b.describe()),
    connections: async () => ({
      accepted: connections.accepted(),
      active: await connections.active(),
      busy: connections.busy(),
      requests: totals()?.requests ?? 0,
    }),
    datastoreReachable: async () => controlPlane.status().config_store_status === 'ok',
    memoryStores: () => services.memoryStores(),
    redis: () => services.redisStatus(),
    retries: () =>
      parts.retries.entries().map(([upstream, b]) => ({
        upstream,
        requests: b.requests,
        retries: b.retries,
        exhausted: b.exhausted,
        vetoed: b.vetoed,
        remaining: b.remaining(),
      })),
    ping: own === null ? null : { url: own.name, run: () => own.ping(PING_BOUND_MS) },
  }
}

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { Gateway } from './gateway.js'

/** What /healthz reports about shared stores (Redis connections and their states). */
export interface StoreStatus {
  redisStatus(): Array<{ url: string; status: string }>
  /** sections plugins added to /healthz (their breakers, …) */
  readonly healthSections: ReadonlyMap<string, () => unknown>
}

export interface StatusDeps {
  gateway: Gateway
  services: StoreStatus
  startedAt: number
  loadedAt: () => number
  /** where entities live and whether that store is reachable (the control plane's view) */
  configStore?: () => { config: string; config_store_status: string } & Record<string, unknown>
  /** a node with workers: what every worker runs (asked of the primary on each call) */
  workers?: () => Promise<unknown[]>
}

/** Extra endpoints later parts mount on the status listener (`/metrics`, `/cachez`). */
export type StatusRoute = (req: IncomingMessage, res: ServerResponse) => void

/** A JSON answer for the built-in endpoints (never cached by clients). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
    'cache-control': 'no-store',
  })
  res.end(data)
}

/**
 * The built-in endpoints (DESIGN §2.6): `/healthz` on both listeners (the proxy's without
 * internal detail), and a router for the
 * status listener that later parts extend with `/metrics` and `/cachez`. None passes a plugin.
 * 200 while the node serves; 503 while it drains. Upstream health is reported, not folded
 * into the status: one sick upstream must not take the whole gateway out of a load balancer.
 */
export function createStatusHandler(deps: StatusDeps): {
  healthz: StatusRoute
  publicHealthz: StatusRoute
  handle: RequestListener
  routes: Map<string, StatusRoute>
} {
  const healthz: StatusRoute = (req, res) => {
    if (deps.workers !== undefined) {
      deps.workers().then(
        (workers) => healthzOf(req, res, workers),
        (err: unknown) => healthzOf(req, res, [{ error: (err as Error).message }]),
      )
    } else healthzOf(req, res, undefined)
  }
  const healthzOf = (_req: IncomingMessage, res: ServerResponse, workers: unknown[] | undefined) => {
    const rt = deps.gateway.runtime
    const upstreams = [...rt.balancers.values()].map((b) => b.describe())
    const redis = deps.services.redisStatus()
    const ok = !deps.gateway.draining
    const sections: Record<string, unknown> = {}
    for (const [name, render] of deps.services.healthSections) sections[name] = render()
    sendJson(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'draining',
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      config: {
        generation: rt.generation,
        hash: rt.hash,
        loaded_at: new Date(deps.loadedAt()).toISOString(),
        services: rt.document.services.length,
        routes: rt.router.size,
      },
      store: { config: 'memory', ...deps.configStore?.(), redis },
      upstreams,
      // per worker: the stored configuration's version it runs (the node's generation) and its runtime's hash
      ...(workers === undefined ? {} : { workers }),
      ...sections,
    })
  }
  // The proxy listener's view (DESIGN §2.6): anyone on the internet can read it, so it says
  // whether the node serves and whether each upstream has a healthy target, and nothing an
  // attacker could map the inside with (target addresses, config hash, store URLs).
  const publicHealthz: StatusRoute = (_req, res) => {
    const upstreams = [...deps.gateway.runtime.balancers.values()].map((b) => {
      const { name, healthy } = b.describe()
      return { name, healthy }
    })
    const ok = !deps.gateway.draining
    sendJson(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'draining',
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      upstreams,
    })
  }
  const routes = new Map<string, StatusRoute>([
    ['/healthz', healthz],
    ['/health', healthz],
  ])
  const handle: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const route = routes.get(path)
    if (route === undefined) return sendJson(res, 404, { message: 'Not found' })
    route(req, res)
  }
  return { healthz, publicHealthz, handle, routes }
}

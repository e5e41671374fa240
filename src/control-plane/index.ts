import type { RequestListener } from 'node:http'
import type { AdminRequest, AdminRoute } from '../core/admin.js'
import type { Logger } from '../core/logger.js'
import type { PluginRegistry } from '../core/plugin.js'
import type { PluginServices } from '../core/services.js'
import type { ControlPlane } from './control-plane.js'
import { type AdminHandler, createAdminListener } from './http.js'
import { Router } from './router.js'
import { mountCertificates } from './routes/certificates.js'
import { exportConfig, importConfig } from './routes/config.js'
import type { AdminContext } from './routes/context.js'
import { mountEntities } from './routes/entities.js'
import { mountNode, type NodeInfo } from './routes/node.js'
import { mountRegistry } from './routes/registry.js'
import { mountSchemas } from './routes/schemas.js'
import { staticFiles } from './ui.js'
import type { UpstreamPolicy } from './upstream-policy.js'

export { assertAdminBinding, isLoopback } from './auth.js'
export { type ConfigStoreStatus, ControlPlane, type ControlPlaneOptions } from './control-plane.js'
export { acceptRawTargets } from './raw-target.js'
export type { NodeInfo, UpstreamHealthView } from './routes/node.js'
export { UpstreamPolicy } from './upstream-policy.js'

export interface AdminApiOptions {
  controlPlane: ControlPlane
  plugins: PluginRegistry
  /** handed to plugins' `adminRoutes` factories */
  services: PluginServices
  policy: UpstreamPolicy
  node: NodeInfo
  log: Logger
  /** required on a non-loopback listener (checked at start by {@link assertAdminBinding}) */
  token: string | undefined
  now?: () => number
  /** more endpoints the node mounts (usage analytics) */
  routes?: AdminRoute[]
  /** the admin UI's built assets, served under `/ui/` without the token (the UI asks for it) */
  uiDir?: string | null
}

/** Mounts endpoints given as {@link AdminRoute}s (plugins' own, analytics); built-in routes win. */
function mountRoutes(ctx: AdminContext, log: Logger, owner: string, routes: AdminRoute[]): void {
  for (const route of routes) {
    const handler: AdminHandler = (call) => {
      const req: AdminRequest = {
        method: call.method,
        params: call.params,
        query: call.query,
        body: call.body.value,
      }
      return route.handle(req)
    }
    try {
      ctx.router.add(route.method, route.path, handler)
    } catch (err) {
      log.error({ owner, path: route.path, err }, 'admin route not mounted')
    }
  }
}

/** The endpoints plugins contribute (Kong's plugin `api.lua`). */
function mountPluginRoutes(ctx: AdminContext, options: AdminApiOptions): void {
  for (const name of options.plugins.names()) {
    const factory = options.plugins.get(name)?.adminRoutes
    if (factory !== undefined) mountRoutes(ctx, options.log, `plugin ${name}`, factory(options.services))
  }
}

/**
 * The Admin API (Kong-compatible): entity endpoints, `/config`, node info and status, the
 * service registry, and plugins' own endpoints, behind the admin token and body limits.
 * Returns the request listener main mounts on the admin address.
 *
 * @example
 *   const listener = createAdminApi({ controlPlane, plugins, services, policy, node, log, token })
 *   const server = createPlainServer(listener, limits)
 */
export function createAdminApi(options: AdminApiOptions): RequestListener {
  const ui = options.uiDir === undefined || options.uiDir === null ? null : staticFiles(options.uiDir)
  return createAdminListener({
    router: buildAdminRouter(options),
    token: options.token,
    log: options.log,
    ui,
  })
}

/**
 * Every Admin API endpoint in one router (the reference page docs/admin-api.md lists its
 * patterns, so the page follows the code).
 */
export function buildAdminRouter(options: AdminApiOptions): Router<AdminHandler> {
  const router = new Router<AdminHandler>()
  const ctx: AdminContext = {
    cp: options.controlPlane,
    plugins: options.plugins,
    env: { registry: options.plugins, policy: options.policy, now: options.now ?? Date.now },
    router,
  }
  mountNode(ctx, options.node)
  mountSchemas(ctx)
  router.add('GET', '/config', (call) => exportConfig(ctx, call))
  router.add('POST', '/config', (call) => importConfig(ctx, call))
  mountEntities(ctx)
  mountCertificates(ctx)
  mountRegistry(ctx, options.node)
  mountRoutes(ctx, options.log, 'node', options.routes ?? [])
  mountPluginRoutes(ctx, options)
  return router
}

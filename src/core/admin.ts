import { KONG_SCHEMA_VIOLATION, reply } from './errors.js'
import type { PluginServices } from './services.js'

/** A request to an Admin API endpoint contributed by a plugin (parsed by the admin layer). */
export interface AdminRequest {
  method: string
  /** named segments of the route's path (`/things/:key` → `{ key }`), URL-decoded */
  params: Record<string, string>
  query: URLSearchParams
  /** parsed JSON or form body (`{}` when empty) */
  body: Record<string, unknown>
}

export interface AdminResponse {
  status: number
  /** sent as JSON; omitted for 204 */
  body?: unknown
  headers?: Record<string, string> | undefined
}

/**
 * An Admin API endpoint that a plugin adds (Kong's plugin `api.lua`), mounted by the control
 * plane next to the entity endpoints, behind the same admin authentication.
 *
 * @example
 *   adminRoutes: (services) => [{
 *     method: 'DELETE', path: '/things/:key',
 *     handle: async (req) => ((await purge(req.params.key)) ? { status: 204 } : { status: 404, body: { message: 'Not found' } }),
 *   }]
 */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  handle(req: AdminRequest): AdminResponse | Promise<AdminResponse>
}

export type AdminRoutesFactory = (services: PluginServices) => AdminRoute[]

/**
 * Kong's 400 for one field, for endpoints mounted beside the control plane's (plugins',
 * analytics'): `{"code":2,"name":"schema violation","message":…,"fields":{field: message}}`.
 *
 * @example
 *   if (!valid) return invalidField('limit', 'expected 1 to 1000')
 */
export function invalidField(field: string, message: string): AdminResponse {
  return reply(null, 'SCHEMA_VIOLATION', {
    body: {
      code: KONG_SCHEMA_VIOLATION,
      name: 'schema violation',
      message: `schema violation (${field}: ${message})`,
      fields: { [field]: message },
    },
  })
}

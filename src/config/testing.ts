/**
 * Test data shared by the config tests and the router's test helpers; nothing on the request
 * path uses it. Kong's defaults are written out here as Kong documents them, never read from
 * the schemas, so a test comparing a schema's output with them still checks the schema.
 */

import { z } from 'zod'
import type { RouteEntity, ServiceEntity } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'

type ServiceDefaults = Pick<
  ServiceEntity,
  'protocol' | 'port' | 'retries' | 'connect_timeout' | 'write_timeout' | 'read_timeout' | 'enabled'
>
type RouteDefaults = Pick<
  RouteEntity,
  | 'protocols'
  | 'regex_priority'
  | 'strip_path'
  | 'preserve_host'
  | 'path_handling'
  | 'https_redirect_status_code'
  | 'request_buffering'
  | 'response_buffering'
>

/**
 * The fields Kong 3.x gives a service that does not set them (a new object each call).
 *
 * @example
 *   assert.deepEqual(serviceSchema.parse({ host: 'a' }), { ...serviceDefaults(), host: 'a' })
 */
export function serviceDefaults(): ServiceDefaults {
  return {
    protocol: 'http',
    port: 80,
    retries: 5,
    connect_timeout: 60000,
    write_timeout: 60000,
    read_timeout: 60000,
    enabled: true,
  }
}

/**
 * The fields Kong 3.x gives a route that does not set them (a new object each call).
 *
 * @example
 *   const route = { ...routeDefaults(), id: 'r', paths: ['/users'] }
 */
export function routeDefaults(): RouteDefaults {
  return {
    protocols: ['http', 'https'],
    regex_priority: 0,
    strip_path: true,
    preserve_host: false,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    request_buffering: true,
    response_buffering: true,
  }
}

/**
 * A registry holding one plugin, `rate-limiting`, with a real schema: `minute` (default 60)
 * unless another is given.
 *
 * @example
 *   parseDeclarative(text, rateLimitingRegistry())
 */
export function rateLimitingRegistry(
  schema: z.ZodType = z.strictObject({ minute: z.number().default(60) }),
): PluginRegistry {
  return {
    get: (name) =>
      name === 'rate-limiting' ? { name, priority: 910, schema, create: () => ({}) } : undefined,
    names: () => ['rate-limiting'],
  }
}

import type { RouteEntity } from '../../core/entities.js'

/**
 * A route with Kong's defaults, for tests and the benchmark; `fields` override them.
 *
 * @example
 *   const r = makeRoute({ id: 'users', paths: ['/users'], methods: ['GET'] })
 */
export function makeRoute(fields: Partial<RouteEntity> & { id: string }): RouteEntity {
  return {
    protocols: ['http', 'https'],
    regex_priority: 0,
    strip_path: true,
    preserve_host: false,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    request_buffering: true,
    response_buffering: true,
    ...fields,
  }
}

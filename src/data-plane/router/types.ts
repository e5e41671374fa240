import type { IncomingHttpHeaders } from 'node:http'
import type { RouteEntity } from '../../core/entities.js'

/** A route as the router receives it, with whatever the runtime attaches (`value`). */
export interface RouterEntry<T> {
  route: RouteEntity
  value: T
}

/** The result of a lookup. */
export interface RouteMatch<T> {
  route: RouteEntity
  value: T
  /**
   * The request path with the matched part removed when `strip_path` is true (always starts
   * with `/`), otherwise the whole (normalised) path.
   */
  strippedPath: string
  /** named captures of a `~` regex path, or null */
  captures: Record<string, string> | null
  /**
   * every group of a `~` regex path by position, named ones included (Kong's numbered
   * `uri_captures`: `[0]` here is Kong's `[1]`); a group that took no part is null. Null when
   * the route matched without a regex.
   */
  positional: Array<string | null> | null
}

/**
 * A compiled, immutable router. Built once per config; `find` allocates only the match object.
 *
 * @example
 *   const router = buildRouter([{ route, value: compiledRoute }])
 *   const m = router.find('GET', 'api.example.com', '/users/1', req)
 */
/**
 * Where the router reads request headers from, only when a route has header conditions: pass
 * the IncomingMessage itself, so Node never builds its lazy `headers` object for a lookup that
 * does not need it.
 */
export interface HeaderSource {
  readonly headers: IncomingHttpHeaders
}

export interface Router<T> {
  find(method: string, host: string, path: string, req: HeaderSource): RouteMatch<T> | null
  readonly size: number
}

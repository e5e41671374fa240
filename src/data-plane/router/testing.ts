/** Helpers shared by the router tests and bench/router.ts; nothing on the request path uses them. */

import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { routeDefaults } from '../../config/testing.js'
import type { RouteEntity } from '../../core/entities.js'
import { buildRouter } from './router.js'

/**
 * A route with Kong's defaults, for tests and the benchmark; `fields` override them.
 *
 * @example
 *   const r = makeRoute({ id: 'users', paths: ['/users'], methods: ['GET'] })
 */
export function makeRoute(fields: Partial<RouteEntity> & { id: string }): RouteEntity {
  return { ...routeDefaults(), ...fields }
}

/** One row of a precedence table: routes, a request, and what the lookup must return. */
export interface Row {
  name: string
  routes: Array<Partial<RouteEntity> & { id: string }>
  req: { method?: string; host?: string; path: string; headers?: IncomingHttpHeaders }
  /** expected route id, or null for no match */
  want: string | null
  stripped?: string
  captures?: Record<string, string> | null
  /** every group by position (Kong's `uri_captures.unnamed`) */
  positional?: Array<string | null> | null
}

/**
 * Builds a router from the row's routes (value = id) and checks the lookup against it.
 *
 * @example
 *   checkRow({ name: 'root', routes: [{ id: 'r', paths: ['/'] }], req: { path: '/x' }, want: 'r' })
 */
export function checkRow(row: Row): void {
  const router = buildRouter(row.routes.map((r) => ({ route: makeRoute(r), value: r.id })))
  const { method = 'GET', host = 'example.com', path, headers = {} } = row.req
  const m = router.find(method, host, path, { headers })
  assert.equal(m?.value ?? null, row.want)
  if (m === null) return
  assert.equal(m.route.id, row.want)
  if (row.stripped !== undefined) assert.equal(m.strippedPath, row.stripped)
  if (row.captures !== undefined) assert.deepEqual(m.captures, row.captures)
  if (row.positional !== undefined) assert.deepEqual(m.positional, row.positional)
}

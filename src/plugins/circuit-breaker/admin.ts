import type { AdminResponse, AdminRoute } from '../../core/admin.js'
import { reply } from '../../core/errors.js'
import { silentLogger } from '../../core/logger.js'
import type { PluginServices } from '../../core/services.js'
import { LocalBreaker } from './breaker.js'
import { nodeBreakers } from './registry.js'
import { describe } from './stats.js'

const NOT_FOUND: AdminResponse = reply(null, 'NOT_FOUND')

/**
 * The Admin API's view of the node's breakers (Portico; DESIGN §2.3):
 * - `GET /circuit-breakers` → `{"data":[…]}`: every breaker with its state, mode (`local`,
 *   `redis`, or `local-fallback` while Redis is away), counters and transitions;
 * - `GET /circuit-breakers/{id}` → one of them;
 * - `POST /circuit-breakers/{id}/open` holds it open (`forced_open`) until
 *   `POST /circuit-breakers/{id}/close` closes it (also any open or half-open one: a clean
 *   window, the base open period). On the redis policy the change reaches every node.
 *
 * @example
 *   curl -X POST localhost:8001/circuit-breakers/<plugin-id>@<service-id>/open
 */
export function breakerRoutes(services: PluginServices): AdminRoute[] {
  const reg = () => nodeBreakers(services, silentLogger)
  const force =
    (open: boolean): AdminRoute['handle'] =>
    async (req) => {
      const e = reg().entries.get(req.params.id ?? '')
      if (e === undefined) return NOT_FOUND
      if (e.guard instanceof LocalBreaker) e.guard.force(open, Date.now())
      else await e.guard.force(open)
      return { status: 200, body: describe(e) }
    }
  return [
    {
      method: 'GET',
      path: '/circuit-breakers',
      handle: () => {
        const now = Date.now()
        return {
          status: 200,
          body: { data: [...reg().entries.values()].map((e) => describe(e, now)), next: null },
        }
      },
    },
    {
      method: 'GET',
      path: '/circuit-breakers/:id',
      handle: (req) => {
        const e = reg().entries.get(req.params.id ?? '')
        return e === undefined ? NOT_FOUND : { status: 200, body: describe(e) }
      },
    },
    { method: 'POST', path: '/circuit-breakers/:id/open', handle: force(true) },
    { method: 'POST', path: '/circuit-breakers/:id/close', handle: force(false) },
  ]
}

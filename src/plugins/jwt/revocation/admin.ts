import { type AdminResponse, type AdminRoute, invalidField as invalid } from '../../../core/admin.js'
import { reply } from '../../../core/errors.js'
import type { PluginServices } from '../../../core/services.js'
import { decodeToken } from '../decode.js'
import { nodeRevocations } from './node.js'
import { DEFAULT_RETENTION_S, revocationId } from './registry.js'

const NOT_FOUND: AdminResponse = reply(null, 'NOT_FOUND')

/**
 * A change this worker made that some of the node's workers did not apply in time: 503 naming
 * them, as a configuration write does (the change stands here and, with Redis, for every node;
 * the late workers apply it when they get to it).
 */
const notApplied = (what: string, missing: string[]): AdminResponse =>
  reply(null, 'UNAVAILABLE', {
    message: `the ${what} is applied here, but worker ${missing.join(', ')} did not apply it in time`,
  })

/**
 * Admin API endpoints for revocation (Portico; mounted next to Kong's entity endpoints):
 * - `POST /jwt/revocations` `{"token": "eyJ…"}` or `{"jti": "…", "exp": 1700000000}` → 201
 *   `{"id", "exp", "propagated"}`; the token is revoked until `exp` (the body's, else the
 *   token's, else 24 h from now). `propagated` says whether Redis has it (false: node-local for
 *   now, retried). On a node with workers the answer waits for every worker to apply it; a
 *   worker that does not within 2 s makes it a 503 naming it (the revocation itself stands).
 * - `GET /jwt/revocations/{id}` → 200 `{"id", "exp"}` or 404.
 * - `DELETE /jwt/revocations/{id}` → 204 (lifts the revocation; the same wait for the workers).
 * The id is the token's `jti`, or the SHA-256 (hex) of a token without one.
 *
 * @example
 *   curl -X POST localhost:8001/jwt/revocations -d token=eyJ…
 */
export function revocationRoutes(services: PluginServices): AdminRoute[] {
  const revocations = () => nodeRevocations(services)
  return [
    {
      method: 'POST',
      path: '/jwt/revocations',
      handle: async (req) => {
        const { token, jti, exp } = req.body
        if ((token === undefined) === (jti === undefined)) {
          return invalid('token', "exactly one of 'token' and 'jti' is required")
        }
        let id: string
        let tokenExp: unknown
        if (token !== undefined) {
          if (typeof token !== 'string') return invalid('token', 'expected a string')
          const decoded = decodeToken(token)
          if (typeof decoded === 'string') return invalid('token', `not a JWT (${decoded})`)
          id = revocationId(decoded.claims, token)
          tokenExp = decoded.claims.exp
        } else {
          if (typeof jti !== 'string' || jti === '') return invalid('jti', 'expected a non-empty string')
          id = jti
        }
        const now = Date.now() / 1000
        const given = typeof exp === 'string' && exp !== '' ? Number(exp) : exp
        if (given !== undefined && (typeof given !== 'number' || !Number.isFinite(given))) {
          return invalid('exp', 'expected a number (seconds since the epoch)')
        }
        const until =
          given ?? (typeof tokenExp === 'number' ? tokenExp : Math.floor(now) + DEFAULT_RETENTION_S)
        if (until <= now) return invalid('exp', 'already past: the token is expired, nothing to revoke')
        const { propagated, missing } = await revocations().change({ op: 'r', id, exp: until })
        if (missing.length > 0) return notApplied('revocation', missing)
        return { status: 201, body: { id, exp: until, propagated } }
      },
    },
    {
      method: 'GET',
      path: '/jwt/revocations/:id',
      handle: (req) => {
        const id = req.params.id ?? ''
        const exp = revocations().get(id)
        return exp === undefined ? NOT_FOUND : { status: 200, body: { id, exp } }
      },
    },
    {
      method: 'DELETE',
      path: '/jwt/revocations/:id',
      handle: async (req) => {
        const { missing } = await revocations().change({ op: 'd', id: req.params.id ?? '', exp: 0 })
        if (missing.length > 0) return notApplied('lifted revocation', missing)
        return { status: 204 }
      },
    },
  ]
}

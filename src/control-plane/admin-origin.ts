import type { IncomingHttpHeaders } from 'node:http'
import type { AdminResponse } from '../core/admin.js'
import { isLoopback } from './auth.js'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

function hostOf(authority: string): string {
  // `[::1]:8001` → `[::1]`, `localhost:8001` → `localhost`; a bare IPv6 has no port to strip
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1)
  const colon = authority.indexOf(':')
  return colon === -1 || authority.indexOf(':', colon + 1) !== -1 ? authority : authority.slice(0, colon)
}

function forbidden(message: string): AdminResponse {
  return { status: 403, body: { message } }
}

/**
 * The browser-facing guard of a token-less Admin API (DESIGN §2.3), which listens on loopback
 * only. A web page the admin's browser opens can reach 127.0.0.1 in two ways:
 * - DNS rebinding: `evil.example` re-resolves to 127.0.0.1, the page's requests then arrive with
 *   `Host: evil.example` and the browser lets the page read the answers. Only a loopback Host
 *   (`localhost`, `127.0.0.1` however spelled, `[::1]`; any port, for SSH tunnels) is served.
 * - a cross-site write: a form POST (or `fetch` with `mode: 'no-cors'`) from another origin, which
 *   the browser sends without asking. A write whose `Origin` is not the admin's own (or is
 *   `null`), or that the browser marks `Sec-Fetch-Site: cross-site|same-site`, is refused.
 * With a token configured every request must already carry it, which no page can add to a
 * request it makes the browser send: neither check applies.
 *
 * @example
 *   const refusal = originRefusal('POST', req.headers, token !== undefined)
 *   if (refusal) return send(res, refusal)
 */
export function originRefusal(
  method: string,
  headers: IncomingHttpHeaders,
  hasToken: boolean,
): AdminResponse | undefined {
  if (hasToken) return undefined
  const host = headers.host ?? ''
  if (!isLoopback(hostOf(host))) {
    return forbidden(`Forbidden: Host '${host}' is not an address of this Admin API (DNS rebinding guard)`)
  }
  if (SAFE.has(method)) return undefined
  const site = headers['sec-fetch-site']
  const origin = headers.origin
  const crossOrigin =
    site === 'cross-site' ||
    site === 'same-site' ||
    (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)
  if (!crossOrigin) return undefined
  return forbidden(
    `Forbidden: cross-origin write from '${origin ?? site}' without an admin token (set PORTICO_ADMIN_TOKEN to allow it)`,
  )
}

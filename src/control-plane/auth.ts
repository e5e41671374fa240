import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { isIP } from 'node:net'
import { canonicalHost } from './addresses.js'

/** True for an address only this host can reach (127.0.0.0/8 in any spelling, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = canonicalHost(host)
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

/**
 * DESIGN §2.3: the Admin API may listen beyond loopback only with a token. Throws (the node
 * refuses to start) when an address other than loopback has none.
 *
 * @example
 *   assertAdminBinding({ host: '0.0.0.0', port: 8001 }, undefined) // throws
 */
export function assertAdminBinding(address: { host: string; port: number }, token: string | undefined): void {
  if (isLoopback(address.host)) return
  if (token === undefined || token === '') {
    throw new Error(
      `the Admin API would listen on ${address.host}:${address.port}, which is not loopback: set PORTICO_ADMIN_TOKEN (or --admin-token) to protect it, or listen on 127.0.0.1`,
    )
  }
  if (token.length < 16) throw new Error('PORTICO_ADMIN_TOKEN is too short: use at least 16 characters')
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Checks the admin token of a request in constant time: `Authorization: Bearer …`, or the
 * `Portico-Admin-Token` header (`Kong-Admin-Token` too, which Kong's tools send). Both sides
 * are hashed first, so neither the comparison nor its length leaks anything about the token.
 *
 * @example
 *   const check = tokenChecker(process.env.PORTICO_ADMIN_TOKEN)
 *   if (!check(req.headers)) reply(401)
 */
export function tokenChecker(token: string | undefined): (headers: IncomingHttpHeaders) => boolean {
  if (token === undefined || token === '') return () => true
  const expected = digest(token)
  return (headers) => {
    const auth = headers.authorization
    const given =
      (typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined) ??
      (headers['portico-admin-token'] as string | undefined) ??
      (headers['kong-admin-token'] as string | undefined)
    if (typeof given !== 'string') return false
    return timingSafeEqual(digest(given), expected)
  }
}

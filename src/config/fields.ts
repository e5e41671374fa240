import { z } from 'zod'
import { checkRouteHost, isHostname, isIpOrCidr, parseHostPort } from './hosts.js'
import { UUID_PATTERN } from './ids.js'
import { checkPath, checkRouterPath } from './paths.js'

// Field types shared by the entity schemas, with Kong's rules and Kong's error wording.

/** Runs a validator that returns an error message (or undefined) as a zod refinement. */
function checked(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = check(value)
    if (message !== undefined) ctx.addIssue({ code: 'custom', message })
  })
}

export const uuid = z.string().regex(UUID_PATTERN, 'expected a valid UUID')

/** Kong's `utf8_name`: ASCII letters, digits and `.-_~`, plus any non-ASCII character. */
export const name = z
  .string()
  .regex(
    /^[A-Za-z0-9._~\u0080-\u{10FFFF}-]+$/u,
    'invalid value: the only accepted ascii characters are alphanumerics or ., -, _, and ~',
  )

export const nonEmpty = z.string().min(1, 'must not be empty')

/** Printable ASCII except `,` and `/`, or non-ASCII (Kong's tag rule). */
export const tags = z.array(
  z
    .string()
    .regex(/^[ !-+\-.0-~\u0080-\u{10FFFF}]+$/u, 'invalid tag: expected printable ascii (except `,` and `/`)'),
)

export const timestamp = z.number().nonnegative()
export const port = integer(0, 65535)

/** An integer within Kong's `between = { min, max }`, e.g. `integer(0, 32767)` for retries. */
export function integer(min: number, max: number) {
  // Kong's one message for both ends of a range
  const message = `value should be between ${min} and ${max}`
  return z.number().int().min(min, message).max(max, message)
}

/** Service timeouts in ms: Kong's `between = { 1, 2^31 - 2 }`. */
export const timeout = integer(1, 2 ** 31 - 2)

/** A host name or IP address without a port. */
export const host = checked((value) => {
  const parsed = parseHostPort(value)
  if (typeof parsed === 'string') return parsed
  return parsed.port === undefined ? undefined : 'must not have a port'
})

/** A host name (no IP, no port): upstream names and SNIs. */
export const hostname = checked((value) =>
  isHostname(value) ? undefined : `invalid value '${value}': must be a valid hostname, without a port`,
)

export const path = checked(checkPath)
export const routerPath = checked(checkRouterPath)
export const routeHost = checked(checkRouteHost)
export const ipOrCidr = checked((value) =>
  isIpOrCidr(value) ? undefined : `invalid ip or cidr range: '${value}'`,
)

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** An HTTP header name (RFC 7230 token), refused in Kong's words (typedefs.header_name). */
export const headerName = z.string().regex(TOKEN, {
  error: (issue) =>
    `bad header name '${String(issue.input)}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
})
/** A cookie name (RFC 6265 token). */
export const cookieName = z.string().regex(TOKEN, 'invalid cookie name')

export const httpMethod = z.string().regex(/^[A-Z]+$/, 'invalid method: must be upper-case letters only')

export const protocol = z.enum(['http', 'https', 'grpc', 'grpcs', 'tcp', 'tls', 'udp', 'ws', 'wss'])

/** A reference to another entity in the flat form: `{ id }`. */
export const ref = z.strictObject({ id: uuid })

/** Comments Kong accepts on any record (`_comment`, `_ignore`); validated, then dropped. */
export const kongComments = {
  _comment: z.string().optional(),
  _ignore: z.array(z.unknown()).optional(),
}

/**
 * A Kong field Portico does not implement: accepted when null or absent (nulls are removed
 * before validation), an error otherwise, so nothing is silently ignored.
 *
 * @example
 *   z.strictObject({ client_certificate: unsupported('client_certificate') })
 */
export function unsupported(what: string) {
  return z.custom<never>(() => false, { message: `${what} is not supported by Portico` }).optional()
}

/**
 * Kong writes `null` for every unset field (its export does); Portico treats null as absent, so
 * an exported Kong file and a hand-written one give the same document.
 *
 * @example
 *   withoutNulls({ path: null, tags: ['a'] }) // → { tags: ['a'] }
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    return value
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v)
  return out
}

import { z } from 'zod'
import type { Protocol } from '../core/entities.js'
import { linearRegexError } from '../core/linear-regex.js'
import {
  headerName,
  hostname,
  httpMethod,
  ipOrCidr,
  kongComments,
  name,
  port,
  protocol,
  routeHost,
  routerPath,
  tags,
  timestamp,
  uuid,
  withoutNulls,
} from './fields.js'

// Kong's mutually exclusive protocol subsets: one route serves one family.
const FAMILY: Record<Protocol, 'http' | 'grpc' | 'stream' | 'ws'> = {
  http: 'http',
  https: 'http',
  grpc: 'grpc',
  grpcs: 'grpc',
  tcp: 'stream',
  tls: 'stream',
  udp: 'stream',
  ws: 'ws',
  wss: 'ws',
}
const TLS_PROTOCOLS: ReadonlySet<string> = new Set(['https', 'grpcs', 'tls', 'wss'])

const endpoint = z
  .strictObject({ ip: ipOrCidr.optional(), port: port.optional() })
  .refine(
    (e) => e.ip !== undefined || e.port !== undefined,
    'at least one of these fields must be set: ip, port',
  )

type RouteFields = {
  protocols: Protocol[]
  methods?: string[] | undefined
  hosts?: string[] | undefined
  paths?: string[] | undefined
  headers?: Record<string, string[]> | undefined
  snis?: string[] | undefined
  sources?: unknown[] | undefined
  destinations?: unknown[] | undefined
}

function isSet(value: unknown[] | Record<string, unknown> | undefined): boolean {
  return value !== undefined && Object.keys(value).length > 0
}

/** Kong's per-family rules (routes_subschemas): what a route must and must not match on. */
function checkRoute(route: RouteFields, ctx: z.RefinementCtx): void {
  const issue = (message: string, path: PropertyKey[] = []) => ctx.addIssue({ code: 'custom', path, message })
  const families = [...new Set(route.protocols.map((p) => FAMILY[p]))]
  if (families.length > 1) {
    issue(`protocols from different families cannot be mixed: ${route.protocols.join(', ')}`, ['protocols'])
    return
  }
  const family = families[0] ?? 'http'
  const tls = route.protocols.some((p) => TLS_PROTOCOLS.has(p))
  // Kong's words (routes_subschemas.lua): each family names its protocols one fixed way
  const named =
    family === 'stream' ? "'tcp', 'tls', 'tls_passthrough' or 'udp'" : `'${family}' or '${family}s'`
  const forbid = (fields: Array<keyof RouteFields>) => {
    for (const field of fields) {
      const value = route[field] as unknown[] | undefined
      if (isSet(value)) issue(`cannot set '${field}' when 'protocols' is ${named}`, [field])
    }
  }
  const requireOne = (fields: Array<keyof RouteFields>, when: string) => {
    const candidates = fields.filter((f) => f !== 'snis' || tls)
    if (!candidates.some((f) => isSet(route[f] as unknown[] | undefined))) {
      issue(`must set one of '${candidates.join("', '")}' when 'protocols' is ${when}`)
    }
  }
  if (family === 'stream') {
    forbid(['methods', 'hosts', 'paths', 'headers'])
    requireOne(['sources', 'destinations', 'snis'], "'tcp', 'tls' or 'udp'")
  } else {
    forbid(family === 'grpc' ? ['methods', 'sources', 'destinations'] : ['sources', 'destinations'])
    requireOne(
      family === 'grpc'
        ? ['hosts', 'headers', 'paths', 'snis']
        : ['methods', 'hosts', 'headers', 'paths', 'snis'],
      tls ? `'${family}s'` : `'${family}'`,
    )
  }
  if (isSet(route.snis) && !tls) {
    issue("'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'wss'", ['snis'])
  }
  const seen = new Set<string>()
  for (const header of Object.keys(route.headers ?? {})) {
    const lower = header.toLowerCase()
    if (lower === 'host') {
      issue("cannot contain 'host' header, which must be specified in the 'hosts' attribute", [
        'headers',
        header,
      ])
    } else if (seen.has(lower)) {
      issue(`header '${header}' is given twice (header names are case-insensitive)`, ['headers', header])
    }
    seen.add(lower)
    for (const [i, value] of (route.headers?.[header] ?? []).entries()) {
      if (!value.startsWith('~*')) continue
      const error = linearRegexError(value.slice(2), { ignoreCase: true })
      if (error !== undefined) issue(`invalid regex: '${value.slice(2)}': ${error}`, ['headers', header, i])
    }
  }
}

/**
 * A route (Kong 3.x, traditional router): what requests it matches and how it forwards them.
 *
 * @example
 *   routeSchema.parse({ paths: ['/api'] }) // → { protocols: ['http', 'https'], paths: ['/api'], strip_path: true, … }
 */
export const routeSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      name: name.optional(),
      protocols: z.array(protocol).min(1).default(['http', 'https']),
      methods: z.array(httpMethod).optional(),
      hosts: z.array(routeHost).optional(),
      paths: z.array(routerPath).optional(),
      headers: z.record(headerName, z.array(z.string()).min(1, 'expected at least one value')).optional(),
      snis: z.array(hostname).optional(),
      sources: z.array(endpoint).optional(),
      destinations: z.array(endpoint).optional(),
      regex_priority: z.number().int().default(0),
      strip_path: z.boolean().default(true),
      preserve_host: z.boolean().default(false),
      path_handling: z.enum(['v0', 'v1']).default('v0'),
      https_redirect_status_code: z.literal([426, 301, 302, 307, 308]).default(426),
      request_buffering: z.boolean().default(true),
      response_buffering: z.boolean().default(true),
      tags: tags.optional(),
      created_at: timestamp.optional(),
      updated_at: timestamp.optional(),
      ...kongComments,
    })
    .superRefine(checkRoute)
    .transform(({ _comment, _ignore, ...route }) => {
      // the router matches header names case-insensitively: store them as it looks them up
      if (route.headers === undefined) return route
      const headers = Object.fromEntries(Object.entries(route.headers).map(([k, v]) => [k.toLowerCase(), v]))
      return { ...route, headers }
    }),
)

import { z } from 'zod'
import {
  cookieName,
  headerName,
  host,
  integer,
  kongComments,
  nonEmpty,
  path,
  tags,
  timestamp,
  unsupported,
  uuid,
  withoutNulls,
} from './fields.js'
import { formatHostPort, parseHostPort } from './hosts.js'

const statuses = z.array(integer(100, 999))
const seconds = z
  .number()
  .min(0, 'value should be between 0 and 65535')
  .max(65535, 'value should be between 0 and 65535')
const counter = integer(0, 255)

const active = z.strictObject({
  type: z.enum(['http', 'https', 'tcp']).default('http'),
  http_path: path.default('/'),
  timeout: seconds.default(1),
  concurrency: integer(1, 2 ** 31).default(10),
  https_verify_certificate: z.boolean().default(true),
  https_sni: unsupported('healthchecks.active.https_sni'),
  headers: z.record(headerName, z.array(z.string())).optional(),
  healthy: z
    .strictObject({
      interval: seconds.default(0),
      successes: counter.default(0),
      http_statuses: statuses.default(() => [200, 302]),
    })
    .prefault({}),
  unhealthy: z
    .strictObject({
      interval: seconds.default(0),
      http_failures: counter.default(0),
      tcp_failures: counter.default(0),
      timeouts: counter.default(0),
      http_statuses: statuses.default(() => [429, 404, 500, 501, 502, 503, 504, 505]),
    })
    .prefault({}),
})

const passive = z.strictObject({
  type: z.enum(['http', 'https', 'tcp']).default('http'),
  healthy: z
    .strictObject({
      successes: counter.default(0),
      http_statuses: statuses.default(() => [
        200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
      ]),
    })
    .prefault({}),
  unhealthy: z
    .strictObject({
      http_failures: counter.default(0),
      tcp_failures: counter.default(0),
      timeouts: counter.default(0),
      http_statuses: statuses.default(() => [429, 500, 503]),
    })
    .prefault({}),
})

// Kong's upstream name rule and wording: services refer to it as their host.
const upstreamName = z.string().superRefine((value, ctx) => {
  const parsed = parseHostPort(value)
  const message =
    typeof parsed === 'string'
      ? 'Invalid name; must be a valid hostname'
      : parsed.kind !== 'name'
        ? 'Invalid name; no ip addresses allowed'
        : parsed.port !== undefined
          ? 'Invalid name; no port allowed'
          : undefined
  if (message !== undefined) ctx.addIssue({ code: 'custom', message })
})

/**
 * Active probes and passive (circuit-breaker) checks; every field defaults as in Kong, 0 = off.
 *
 * @example
 *   healthchecksSchema.parse({}).active.unhealthy.http_statuses // → [429, 404, 500, 501, 502, 503, 504, 505]
 */
export const healthchecksSchema = z.strictObject({
  active: active.prefault({}),
  passive: passive.prefault({}),
  threshold: z.number().min(0).max(100).default(0),
})

const HASH_INPUTS = [
  'none',
  'consumer',
  'ip',
  'header',
  'cookie',
  'path',
  'query_arg',
  'uri_capture',
] as const
type HashInput = (typeof HASH_INPUTS)[number]
type HashFields = Partial<Record<string, unknown>> & { hash_on: HashInput; hash_fallback: HashInput }

// the field that names the hash input, for hash_on and for hash_fallback
const NAMED_INPUT: Partial<Record<HashInput, [string, string]>> = {
  header: ['hash_on_header', 'hash_fallback_header'],
  cookie: ['hash_on_cookie', 'hash_on_cookie'],
  query_arg: ['hash_on_query_arg', 'hash_fallback_query_arg'],
  uri_capture: ['hash_on_uri_capture', 'hash_fallback_uri_capture'],
}

/** Kong's upstream entity checks: hashing inputs that need a name have one, fallbacks differ. */
function checkHashing(u: HashFields & { algorithm: string }, ctx: z.RefinementCtx): void {
  const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message })
  const onField = NAMED_INPUT[u.hash_on]?.[0]
  const fallbackField = NAMED_INPUT[u.hash_fallback]?.[1]
  if (onField !== undefined && u[onField] === undefined) {
    issue(onField, `required field missing: hash_on is '${u.hash_on}'`)
  }
  if (fallbackField !== undefined && u[fallbackField] === undefined) {
    issue(fallbackField, `required field missing: hash_fallback is '${u.hash_fallback}'`)
  }
  if ((u.hash_on === 'none' || u.hash_on === 'cookie') && u.hash_fallback !== 'none') {
    issue('hash_fallback', `must be 'none' when hash_on is '${u.hash_on}'`)
  } else if (u.hash_fallback !== 'none' && u.hash_fallback === u.hash_on) {
    if (onField === undefined) issue('hash_fallback', 'must differ from hash_on')
    else if (fallbackField !== undefined && u[onField] !== undefined && u[onField] === u[fallbackField]) {
      issue(fallbackField, `must differ from ${onField}`)
    }
  }
  if ((u.algorithm === 'least-connections' || u.algorithm === 'latency') && u.hash_on !== 'none') {
    issue('hash_on', `must be 'none' when algorithm is '${u.algorithm}'`)
  }
}

/**
 * An upstream (Kong 3.x): a virtual host name balanced over targets, with health checks.
 *
 * @example
 *   upstreamSchema.parse({ name: 'users.v1' }) // → { algorithm: 'round-robin', slots: 10000, healthchecks: { … }, … }
 */
export const upstreamSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      name: upstreamName,
      algorithm: z
        .enum(['round-robin', 'consistent-hashing', 'least-connections', 'latency'])
        .default('round-robin'),
      hash_on: z.enum(HASH_INPUTS).default('none'),
      hash_fallback: z.enum(HASH_INPUTS).default('none'),
      hash_on_header: headerName.optional(),
      hash_fallback_header: headerName.optional(),
      hash_on_cookie: cookieName.optional(),
      hash_on_cookie_path: path.default('/'),
      hash_on_query_arg: nonEmpty.optional(),
      hash_fallback_query_arg: nonEmpty.optional(),
      hash_on_uri_capture: nonEmpty.optional(),
      hash_fallback_uri_capture: nonEmpty.optional(),
      slots: integer(10, 2 ** 16).default(10000),
      healthchecks: healthchecksSchema.prefault({}),
      host_header: host.optional(),
      client_certificate: unsupported('client_certificate'),
      use_srv_name: z
        .boolean()
        .refine((v) => !v, 'use_srv_name is not supported by Portico')
        .optional(),
      tags: tags.optional(),
      created_at: timestamp.optional(),
      updated_at: timestamp.optional(),
      ...kongComments,
    })
    .superRefine(checkHashing)
    .transform(({ _comment, _ignore, use_srv_name: _srv, updated_at: _updated, ...upstream }) => upstream),
)

/**
 * A target (Kong 3.x): `host[:port]` (port 8000 when absent, stored as `host:port`) and a weight.
 *
 * @example
 *   targetSchema.parse({ target: '10.0.0.1' }) // → { target: '10.0.0.1:8000', weight: 100 }
 */
export const targetSchema = z.preprocess(
  withoutNulls,
  z
    .strictObject({
      id: uuid.optional(),
      target: z.string().transform((value, ctx) => {
        const parsed = parseHostPort(value)
        if (typeof parsed !== 'string') return formatHostPort(parsed.host, parsed.port ?? 8000)
        // Kong's words (targets.lua), whatever part of `host[:port]` is wrong
        ctx.addIssue({ code: 'custom', message: 'Invalid target; not a valid hostname or ip address' })
        return z.NEVER
      }),
      weight: integer(0, 65535).default(100),
      health_path: path
        .optional()
        .describe(
          "Portico: this target's own active health check path, instead of the upstream's http_path (the service registry sets it from each instance's health_path)",
        ),
      tags: tags.optional(),
      created_at: timestamp.optional(),
      updated_at: timestamp.optional(),
      ...kongComments,
    })
    .transform(({ _comment, _ignore, ...target }) => target),
)

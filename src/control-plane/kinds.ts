import type { z } from 'zod'
import {
  aclSchema,
  basicAuthSchema,
  caCertificateSchema,
  certificateSchema,
  consumerSchema,
  jwtSecretSchema,
  keyAuthSchema,
  pluginSchema,
  routeSchema,
  serviceSchema,
  sniSchema,
  targetSchema,
  upstreamSchema,
} from '../config/index.js'
import type { ConfigDocument } from '../core/entities.js'
import { fieldNames } from './schema-walk.js'

/** An entity list of the document (Kong's table name). */
export type Kind = keyof ConfigDocument

/** What the Admin API needs to know about one kind of entity. */
export interface KindSpec {
  kind: Kind
  /** the entity schema of the config layer */
  schema: z.ZodType
  /** the unique field that addresses an entity in a URL instead of its id (Kong's endpoint_key) */
  endpointKey: string | undefined
  /** foreign keys and the kind they point at */
  refs: Readonly<Record<string, Kind>>
  /** the kind's fields as Kong's Admin API returns them (absent ones as null) */
  fields: readonly string[]
  /** the schema keeps these timestamps (some Kong tables have no updated_at) */
  createdAt: boolean
  updatedAt: boolean
  /** Kong's `auto_timestamp_ms` (targets): seconds with a millisecond fraction, not whole seconds */
  msTimestamps: boolean
  /** Kong's `ttl = true` (key-auth credentials): an entity may expire (expiry.ts) */
  ttl: boolean
  /** entities of these kinds are deleted with it (Kong's on_delete = cascade) */
  cascade: ReadonlyArray<{ kind: Kind; field: string }>
}

// Declarative-only keys and write-only shorthands that are never part of an entity.
const NOT_FIELDS = new Set(['_comment', '_ignore', 'url', 'ordering', 'consumer_group'])

function spec(
  kind: Kind,
  schema: z.ZodType,
  endpointKey: string | undefined,
  refs: Record<string, Kind>,
  cascade: Array<{ kind: Kind; field: string }> = [],
): KindSpec {
  const names = fieldNames(schema)
  const fields = [...names.filter((f) => !NOT_FIELDS.has(f)), ...Object.keys(refs)]
  return {
    kind,
    schema,
    endpointKey,
    refs,
    fields,
    createdAt: names.includes('created_at'),
    updatedAt: names.includes('updated_at'),
    msTimestamps: kind === 'targets',
    ttl: kind === 'keyauth_credentials',
    cascade,
  }
}

const CREDENTIALS: Kind[] = ['keyauth_credentials', 'jwt_secrets', 'basicauth_credentials', 'acls']

export const SPECS: Readonly<Record<Kind, KindSpec>> = {
  services: spec('services', serviceSchema, 'name', { client_certificate: 'certificates' }, [
    { kind: 'routes', field: 'service' },
    { kind: 'plugins', field: 'service' },
  ]),
  routes: spec('routes', routeSchema, 'name', { service: 'services' }, [{ kind: 'plugins', field: 'route' }]),
  consumers: spec('consumers', consumerSchema, 'username', {}, [
    ...CREDENTIALS.map((kind) => ({ kind, field: 'consumer' })),
    { kind: 'plugins', field: 'consumer' },
  ]),
  plugins: spec('plugins', pluginSchema, 'instance_name', {
    service: 'services',
    route: 'routes',
    consumer: 'consumers',
  }),
  upstreams: spec('upstreams', upstreamSchema, 'name', {}, [{ kind: 'targets', field: 'upstream' }]),
  targets: spec('targets', targetSchema, 'target', { upstream: 'upstreams' }),
  keyauth_credentials: spec('keyauth_credentials', keyAuthSchema, 'key', { consumer: 'consumers' }),
  jwt_secrets: spec('jwt_secrets', jwtSecretSchema, 'key', { consumer: 'consumers' }),
  basicauth_credentials: spec('basicauth_credentials', basicAuthSchema, 'username', {
    consumer: 'consumers',
  }),
  acls: spec('acls', aclSchema, 'group', { consumer: 'consumers' }),
  certificates: spec('certificates', certificateSchema, undefined, {}, [
    { kind: 'snis', field: 'certificate' },
  ]),
  snis: spec('snis', sniSchema, 'name', { certificate: 'certificates' }),
  ca_certificates: spec('ca_certificates', caCertificateSchema, undefined, {}),
}

/** Credential kinds: Admin API name under a consumer, and the top-level collection. */
export const CREDENTIAL_PATHS: ReadonlyArray<{ kind: Kind; nested: string; top: string }> = [
  { kind: 'keyauth_credentials', nested: 'key-auth', top: 'key-auths' },
  { kind: 'jwt_secrets', nested: 'jwt', top: 'jwts' },
  { kind: 'basicauth_credentials', nested: 'basic-auth', top: 'basic-auths' },
  { kind: 'acls', nested: 'acls', top: 'acls' },
]

type Entity = { id: string } & Record<string, unknown>

/** The entities of `kind`, typed loosely: the Admin API handles every kind the same way. */
export function listOf(doc: ConfigDocument, kind: Kind): Entity[] {
  return doc[kind] as unknown as Entity[]
}

/**
 * Kong's output form of an entity: every field present, unset ones as `null`, foreign keys as
 * `{ id }`; an expiring entity's `ttl` as the seconds left at `nowMs` (Kong's select).
 *
 * @example
 *   present('services', service) // → { id, name: null, protocol: 'http', …, tags: null, … }
 */
export function present(
  kind: Kind,
  entity: Record<string, unknown>,
  nowMs = Date.now(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of SPECS[kind].fields) out[field] = entity[field] ?? null
  for (const [k, v] of Object.entries(entity)) if (!(k in out)) out[k] = v
  const { ttl, created_at: created } = out
  if (SPECS[kind].ttl && typeof ttl === 'number' && typeof created === 'number')
    out.ttl = ttl > 0 ? Math.max(0, Math.floor(created + ttl - nowMs / 1000)) : null
  return out
}

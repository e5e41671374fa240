import type { z } from 'zod'
import type { ConfigDocument, ConfigIssue } from '../core/entities.js'
import { caCertificateSchema, certificateSchema, sniSchema } from './certificate-schema.js'
import {
  aclSchema,
  basicAuthSchema,
  consumerSchema,
  jwtSecretSchema,
  keyAuthSchema,
} from './consumer-schemas.js'
import { joinPath } from './issues.js'
import { pluginSchema } from './plugin-schema.js'
import { routeSchema } from './route-schema.js'
import { serviceSchema } from './service-schema.js'
import { targetSchema, upstreamSchema } from './upstream-schema.js'

/** An entity list of the document; also Kong's table name (used for id namespaces). */
export type Kind = keyof ConfigDocument

interface KindSpec {
  schema: z.ZodType
  /** foreign key fields and the kind they point at */
  refs: Partial<Record<string, Kind>>
  /** foreign keys an entity cannot exist without */
  requiredRefs: string[]
  /** lists that may be nested inside an entity of this kind, in walk order */
  nested: Kind[]
}

const credential = (schema: z.ZodType): KindSpec => ({
  schema,
  refs: { consumer: 'consumers' },
  requiredRefs: ['consumer'],
  nested: [],
})

export const SPECS: Record<Kind, KindSpec> = {
  services: {
    schema: serviceSchema,
    refs: { client_certificate: 'certificates' },
    requiredRefs: [],
    nested: ['plugins', 'routes'],
  },
  routes: { schema: routeSchema, refs: { service: 'services' }, requiredRefs: [], nested: ['plugins'] },
  consumers: {
    schema: consumerSchema,
    refs: {},
    requiredRefs: [],
    nested: ['plugins', 'keyauth_credentials', 'jwt_secrets', 'basicauth_credentials', 'acls'],
  },
  plugins: {
    schema: pluginSchema,
    refs: { service: 'services', route: 'routes', consumer: 'consumers' },
    requiredRefs: [],
    nested: [],
  },
  upstreams: { schema: upstreamSchema, refs: {}, requiredRefs: [], nested: ['targets'] },
  targets: { schema: targetSchema, refs: { upstream: 'upstreams' }, requiredRefs: ['upstream'], nested: [] },
  keyauth_credentials: credential(keyAuthSchema),
  jwt_secrets: credential(jwtSecretSchema),
  basicauth_credentials: credential(basicAuthSchema),
  acls: credential(aclSchema),
  certificates: { schema: certificateSchema, refs: {}, requiredRefs: [], nested: ['snis'] },
  snis: {
    schema: sniSchema,
    refs: { certificate: 'certificates' },
    requiredRefs: ['certificate'],
    nested: [],
  },
  ca_certificates: { schema: caCertificateSchema, refs: {}, requiredRefs: [], nested: [] },
}

/**
 * Top-level lists in the order they are walked, which is the order entities get in the document:
 * entities nested in a service come before those of the next service, top-level lists after.
 */
export const KINDS: readonly Kind[] = [
  'services',
  'routes',
  'consumers',
  'plugins',
  'upstreams',
  'targets',
  'keyauth_credentials',
  'jwt_secrets',
  'basicauth_credentials',
  'acls',
  'certificates',
  'snis',
  'ca_certificates',
]

/** One entity found in the input, nested or not, before its references are resolved. */
export interface Item {
  kind: Kind
  /** where it was written: `services[0].routes[1]` */
  path: string
  /** the record as written, without nested lists and foreign keys */
  raw: Record<string, unknown>
  /** the object it was read from (which `raw` copies) */
  source: Record<string, unknown>
  /** foreign keys as written (name, id or `{ id }`) */
  refs: Partial<Record<string, unknown>>
  /** the entity it is nested in, which is its implied reference */
  parent: Item | undefined
  /** the schema's output, when the record is valid */
  value: Record<string, unknown> | undefined
  id: string
  /** foreign key field → id, once resolved */
  resolved: Partial<Record<string, string>>
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The foreign key a `child` nested in `parent` gets implicitly.
 *
 * @example
 *   impliedRef('routes', 'services') // → 'service'
 */
export function impliedRef(child: Kind, parent: Kind): string | undefined {
  return Object.entries(SPECS[child].refs).find(([, kind]) => kind === parent)?.[0]
}

/**
 * Walks the input's lists (and the lists nested in their entries) and returns every entity it
 * finds, in document order, with the issues of shape (not a list, not an object).
 *
 * @example
 *   const items = collect({ services: [{ name: 'a', routes: [{ paths: ['/'] }] }] }, issues)
 *   // → [service item at 'services[0]', route item at 'services[0].routes[0]' (parent: the service)]
 */
export function collect(input: Record<string, unknown>, issues: ConfigIssue[]): Item[] {
  const items: Item[] = []
  const visitList = (kind: Kind, path: string, list: unknown, parent: Item | undefined) => {
    if (list === undefined || list === null) return
    if (!Array.isArray(list)) {
      issues.push({ path, message: 'expected a list' })
      return
    }
    list.forEach((entry, i) => {
      visit(kind, joinPath(path, i), entry, parent)
    })
  }
  const visit = (kind: Kind, path: string, entry: unknown, parent: Item | undefined) => {
    if (!isRecord(entry)) {
      issues.push({ path, message: 'expected an object' })
      return
    }
    const spec = SPECS[kind]
    const raw: Record<string, unknown> = { ...entry }
    const refs: Partial<Record<string, unknown>> = {}
    for (const field of Object.keys(spec.refs)) {
      if (raw[field] !== undefined && raw[field] !== null) refs[field] = raw[field]
      delete raw[field]
    }
    const implied = parent && impliedRef(kind, parent.kind)
    if (implied !== undefined && refs[implied] !== undefined) {
      issues.push({
        path: joinPath(path, implied),
        message: `value must be null: this ${kind.replace(/s$/, '')} is nested in ${parent?.path}`,
      })
      delete refs[implied]
    }
    for (const child of spec.nested) delete raw[child]
    const item: Item = {
      kind,
      path,
      raw,
      source: entry,
      refs,
      parent,
      value: undefined,
      id: '',
      resolved: {},
    }
    items.push(item)
    for (const child of spec.nested) visitList(child, joinPath(path, child), entry[child], item)
  }
  for (const kind of KINDS) visitList(kind, kind, input[kind], undefined)
  return items
}

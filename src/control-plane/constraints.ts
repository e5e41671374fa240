import { isUuid } from '../config/ids.js'
import { errorMap, toConfigIssues } from '../config/issues.js'
import type { ConfigDocument, ConfigIssue, Ref } from '../core/entities.js'
import { type ApiError, foreignKeyUnresolved, foreignKeyViolation, uniqueViolation } from './errors.js'
import { type Kind, listOf, SPECS } from './kinds.js'

type Entity = Record<string, unknown>

const refId = (entity: Entity, field: string): string | undefined => (entity[field] as Ref | undefined)?.id

/**
 * Finds an entity by id or, when the key is not a UUID, by its endpoint key (`name`,
 * `username`, `key`, …), optionally among the entities that point at `scope` (the consumer of a
 * credential, the upstream of a target).
 *
 * @example
 *   findEntity(doc, 'services', 'users')           // by name
 *   findEntity(doc, 'acls', 'admins', { field: 'consumer', id }) // by group, within one consumer
 */
export function findEntity(
  doc: ConfigDocument,
  kind: Kind,
  key: string,
  scope?: { field: string; id: string },
): Entity | undefined {
  const list = listOf(doc, kind)
  const inScope = (e: Entity) => scope === undefined || refId(e, scope.field) === scope.id
  if (isUuid(key)) {
    const lower = key.toLowerCase()
    const byId = list.find((e) => e.id.toLowerCase() === lower && inScope(e))
    if (byId !== undefined) return byId
  }
  // Kong: a certificate is also addressed by any of its SNI names
  if (kind === 'certificates') {
    const sni = doc.snis.find((s) => s.name === key.toLowerCase())
    const id = sni?.certificate.id
    return id === undefined ? undefined : list.find((e) => e.id === id && inScope(e))
  }
  const field = SPECS[kind].endpointKey
  if (field === undefined) return undefined
  let value = key
  if (kind === 'targets' && !key.includes(':')) value = `${key}:8000`
  return list.find((e) => e[field] === value && inScope(e))
}

export type ResolvedRefs = Record<string, Ref | null>

/**
 * What `resolveRefs` gives back: the refs given (each `{ id }` or null), the body without them,
 * and the issues of a foreign record that names no entity (Kong validates it field by field and
 * reports it with the entity's own schema violations, `service.protocol: …`).
 */
export interface SplitRefs {
  refs: ResolvedRefs
  rest: Entity
  invalid: ConfigIssue[]
}

/**
 * Resolves the foreign keys of a body as Kong accepts them: `{ id }`, `{ name }` (or the target
 * kind's endpoint key: `consumer.username`), a whole entity as a `GET` returned it, a bare id
 * or name, or null to unset. A name that names nothing is an error at once (Kong resolves
 * foreign keys before it validates); a record with neither is validated as Kong does.
 *
 * @example
 *   resolveRefs(doc, 'routes', { paths: ['/a'], service: { name: 'users' } })
 *   // → { refs: { service: { id: '…' } }, rest: { paths: ['/a'] }, invalid: [] }
 */
export function resolveRefs(doc: ConfigDocument, kind: Kind, body: Entity): SplitRefs | { error: ApiError } {
  const refs: ResolvedRefs = {}
  const rest: Entity = { ...body }
  const invalid: ConfigIssue[] = []
  for (const [field, target] of Object.entries(SPECS[kind].refs)) {
    if (!(field in rest)) continue
    const value = rest[field]
    delete rest[field]
    // Kong: an empty form value (`service=`) means null
    if (value === null || value === '') {
      refs[field] = null
      continue
    }
    const found = resolveOne(doc, field, target, value)
    if ('error' in found) return found
    if ('issues' in found) invalid.push(...found.issues)
    else refs[field] = { id: found.id }
  }
  return { refs, rest, invalid }
}

type Resolved = { id: string } | { error: ApiError } | { issues: ConfigIssue[] }

function resolveOne(doc: ConfigDocument, field: string, target: Kind, value: unknown): Resolved {
  const keyField = SPECS[target].endpointKey ?? 'name'
  if (typeof value === 'string') {
    const found = findEntity(doc, target, value)
    if (found !== undefined) return { id: found.id as string }
    return isUuid(value)
      ? { error: foreignKeyViolation(field, { id: value }, target) }
      : { error: foreignKeyUnresolved(field, keyField, value, target) }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { issues: [{ path: field, message: 'expected a record' }] }
  }
  const record = value as Entity
  // a valid primary key wins, whatever else the record holds (a whole entity as GET returned it)
  const id = record.id
  if (typeof id === 'string' && isUuid(id)) {
    const found = listOf(doc, target).find((e) => e.id.toLowerCase() === id.toLowerCase())
    return found ? { id: found.id } : { error: foreignKeyViolation(field, { id }, target) }
  }
  // Kong's resolve_foreign: else the endpoint key, when it is given and valid
  const key = record[keyField]
  if (typeof key === 'string' && key !== '') {
    const found = listOf(doc, target).find((e) => e[keyField] === key)
    return found ? { id: found.id } : { error: foreignKeyUnresolved(field, keyField, key, target) }
  }
  return { issues: foreignRecordIssues(field, target, record) }
}

/**
 * Kong's check of a foreign record without a usable key (schema.lua, `foreign` fields): the
 * fields it gives are validated against the target's schema (what it lacks is not an error);
 * when they hold, the error is the missing primary key.
 */
function foreignRecordIssues(field: string, target: Kind, record: Entity): ConfigIssue[] {
  const given = new Set(Object.keys(record).filter((k) => record[k] !== null && record[k] !== undefined))
  const parsed = SPECS[target].schema.safeParse(record, { error: errorMap })
  const mine = parsed.success
    ? []
    : parsed.error.issues.filter((i) =>
        i.path.length === 0 ? i.code === 'unrecognized_keys' : given.has(String(i.path[0])),
      )
  const issues = toConfigIssues(field, mine)
  return issues.length > 0 ? issues : [{ path: `${field}.id`, message: 'missing primary key' }]
}

const ref = (e: Entity, f: string) => (refId(e, f) === undefined ? null : { id: refId(e, f) })

/** A unique field or composite key: the fields of a 409's body, or undefined when it does not apply. */
type Rule = ((e: Entity) => Record<string, unknown> | undefined) & {
  /** two entities with the same key that may coexist anyway */
  allowed?: (a: Entity, b: Entity) => boolean
}

// Kong keeps a jwt `key` unique; Portico lets one consumer hold several secrets under its key
// (rotation), never two consumers one key. A `kid` names one of them.
const jwtKey: Rule = Object.assign((e: Entity) => only(e, 'key'), {
  allowed: (a: Entity, b: Entity) => refId(a, 'consumer') === refId(b, 'consumer'),
})
const jwtKid: Rule = (e) =>
  typeof e.kid === 'string' ? { consumer: ref(e, 'consumer'), key: e.key, kid: e.kid } : undefined

// Kong's unique fields and composite cache keys: the fields of a 409's body.
const RULES: Partial<Record<Kind, Rule[]>> = {
  services: [(e) => only(e, 'name')],
  routes: [(e) => only(e, 'name')],
  upstreams: [(e) => only(e, 'name')],
  consumers: [(e) => only(e, 'username'), (e) => only(e, 'custom_id')],
  keyauth_credentials: [(e) => only(e, 'key')],
  jwt_secrets: [jwtKey, jwtKid],
  basicauth_credentials: [(e) => only(e, 'username')],
  plugins: [
    (e) => only(e, 'instance_name'),
    (e) => ({
      consumer: ref(e, 'consumer'),
      name: e.name,
      route: ref(e, 'route'),
      service: ref(e, 'service'),
    }),
  ],
  targets: [(e) => ({ target: e.target, upstream: ref(e, 'upstream') })],
  acls: [(e) => ({ consumer: ref(e, 'consumer'), group: e.group })],
  snis: [(e) => (typeof e.name === 'string' ? { name: e.name.toLowerCase() } : undefined)],
}

function only(e: Entity, field: string): Record<string, unknown> | undefined {
  return typeof e[field] === 'string' ? { [field]: e[field] } : undefined
}

/**
 * The 409 a candidate entity causes: another entity of its kind (not `candidate.id`) with the
 * same unique value or composite key.
 *
 * @example
 *   uniqueConflict(doc, 'services', { id, name: 'users' }) // → ApiError 409 when 'users' exists
 */
export function uniqueConflict(doc: ConfigDocument, kind: Kind, candidate: Entity): ApiError | undefined {
  for (const rule of RULES[kind] ?? []) {
    const key = rule(candidate)
    if (key === undefined) continue
    const text = JSON.stringify(key)
    const clash = listOf(doc, kind).some(
      (e) => e.id !== candidate.id && JSON.stringify(rule(e)) === text && !rule.allowed?.(candidate, e),
    )
    if (clash) return uniqueViolation(key)
  }
  return undefined
}

import { isUuid } from '../config/ids.js'
import type { ConfigDocument, Ref } from '../core/entities.js'
import {
  type ApiError,
  foreignKeyUnresolved,
  foreignKeyViolation,
  schemaViolation,
  uniqueViolation,
} from './errors.js'
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
 * Resolves the foreign keys of a body as Kong accepts them: `{ id }`, `{ name }` (or the target
 * kind's endpoint key: `consumer.username`), a bare id or name, or null to unset. Returns the
 * refs given (each `{ id }` or null) and the body without them.
 *
 * @example
 *   resolveRefs(doc, 'routes', { paths: ['/a'], service: { name: 'users' } })
 *   // → { refs: { service: { id: '…' } }, rest: { paths: ['/a'] } }
 */
export function resolveRefs(
  doc: ConfigDocument,
  kind: Kind,
  body: Entity,
): { refs: ResolvedRefs; rest: Entity } | { error: ApiError } {
  const refs: ResolvedRefs = {}
  const rest: Entity = { ...body }
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
    refs[field] = { id: found.id }
  }
  return { refs, rest }
}

function resolveOne(
  doc: ConfigDocument,
  field: string,
  target: Kind,
  value: unknown,
): { id: string } | { error: ApiError } {
  const keyField = SPECS[target].endpointKey ?? 'name'
  if (typeof value === 'string') {
    const found = findEntity(doc, target, value)
    if (found !== undefined) return { id: found.id as string }
    return isUuid(value)
      ? { error: foreignKeyViolation(field, { id: value }, target) }
      : { error: foreignKeyUnresolved(field, keyField, value, target) }
  }
  const entries =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).filter(([, v]) => v !== null && v !== undefined)
      : []
  // a whole entity as the reference (`"service": {…}` as GET returned it): Kong reads its id
  const withId = entries.find(([k]) => k === 'id')
  const [by, given] = withId ?? entries[0] ?? []
  if (
    (withId === undefined && entries.length !== 1) ||
    typeof given !== 'string' ||
    (by !== 'id' && by !== keyField)
  ) {
    const message = `expected a record with 'id' or '${keyField}'`
    return { error: schemaViolation([{ path: field, message }]) }
  }
  if (by === 'id') {
    if (!isUuid(given))
      return { error: schemaViolation([{ path: `${field}.id`, message: 'expected a valid UUID' }]) }
    const found = listOf(doc, target).find((e) => e.id.toLowerCase() === given.toLowerCase())
    return found ? { id: found.id } : { error: foreignKeyViolation(field, { id: given }, target) }
  }
  const found = listOf(doc, target).find((e) => e[keyField] === given)
  return found ? { id: found.id } : { error: foreignKeyUnresolved(field, keyField, given, target) }
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

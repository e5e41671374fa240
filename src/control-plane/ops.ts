import { randomBytes, randomUUID } from 'node:crypto'
import { isUuid } from '../config/ids.js'
import { parseServiceUrl } from '../config/index.js'
import { hashPassword, isPasswordHash } from '../config/password.js'
import type { ConfigDocument, ConfigIssue, Ref } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'
import { resolveRefs, uniqueConflict } from './constraints.js'
import { type ApiError, primaryKeyViolation, schemaViolation } from './errors.js'
import { applyTtl } from './expiry.js'
import { type Kind, listOf, SPECS } from './kinds.js'
import { mergePatch } from './schema-walk.js'
import { checkUpstreams } from './upstream-check.js'
import type { UpstreamPolicy } from './upstream-policy.js'
import { draftOf, validateWrite } from './validate.js'

type Entity = Record<string, unknown>

/** What a write needs besides the document. */
export interface WriteEnv {
  registry: PluginRegistry
  policy: UpstreamPolicy
  /** ms since the epoch (timestamps are stored in seconds, as Kong does) */
  now(): number
}

/** The next document and the entity written (absent for deletes). */
export type OpResult = { ok: true; doc: ConfigDocument; entity?: Entity } | { ok: false; error: ApiError }

const fail = (error: ApiError): OpResult => ({ ok: false, error })
const randomKey = () => randomBytes(16).toString('hex')

/** Values Kong generates when they are not given, and basic-auth hashing. */
function prepare(kind: Kind, raw: Entity, previous: Entity | undefined): Entity {
  const out = { ...raw }
  if (kind === 'keyauth_credentials' && out.key === undefined) out.key = randomKey()
  if (kind === 'jwt_secrets') {
    out.key ??= randomKey()
    const algorithm = typeof out.algorithm === 'string' ? out.algorithm : 'HS256'
    if (algorithm.startsWith('HS') && out.secret === undefined && out.jwks_uri === undefined) {
      out.secret = randomKey()
    }
  }
  if (kind === 'basicauth_credentials' && typeof out.password === 'string' && out.password !== '') {
    const unchanged = previous !== undefined && out.password === previous.password
    if (!unchanged && !isPasswordHash(out.password)) out.password = hashPassword(out.password, String(out.id))
  }
  return out
}

function stamp(kind: Kind, entity: Entity, previous: Entity | undefined, env: WriteEnv): void {
  const spec = SPECS[kind]
  const ms = Math.floor(env.now())
  // Kong's auto_timestamp_ms is ngx.now(): seconds with the milliseconds as a fraction
  const seconds = spec.msTimestamps ? ms / 1000 : Math.floor(ms / 1000)
  if (spec.createdAt) entity.created_at = previous?.created_at ?? entity.created_at ?? seconds
  if (spec.updatedAt) entity.updated_at = seconds
}

function withRefs(entity: Entity, refs: Record<string, Ref | null>): Entity {
  const out = { ...entity }
  for (const [field, value] of Object.entries(refs)) {
    if (value === null) delete out[field]
    else out[field] = value
  }
  return out
}

/** The end of every write: generated values, timestamps, a credential's ttl, references, then `commit`. */
function save(
  doc: ConfigDocument,
  kind: Kind,
  raw: Entity,
  previous: Entity | undefined,
  refs: Record<string, Ref | null>,
  env: WriteEnv,
  ttl: unknown,
  invalid: readonly ConfigIssue[],
): OpResult {
  const entity = prepare(kind, raw, previous)
  stamp(kind, entity, previous, env)
  applyTtl(kind, entity, ttl, env.now())
  return commit(doc, kind, withRefs(entity, refs), previous?.id as string | undefined, env, invalid)
}

/**
 * Puts `candidate` in place of `previousId` (or at the end), validates, applies the upstream
 * policy. `invalid` holds the issues of a foreign record that named no entity: they are
 * reported with the candidate's own, before any uniqueness check, as Kong validates first.
 */
function commit(
  doc: ConfigDocument,
  kind: Kind,
  candidate: Entity,
  previousId: string | undefined,
  env: WriteEnv,
  invalid: readonly ConfigIssue[] = [],
): OpResult {
  const conflict = invalid.length > 0 ? undefined : uniqueConflict(doc, kind, candidate)
  if (conflict !== undefined) {
    // Kong validates before it inserts: a plugin whose config is invalid is a 400 even when its
    // scope is taken. Checked against a document holding only this plugin (no entity refers
    // to a plugin, so nothing else can fail for its absence).
    if (kind === 'plugins') {
      const alone = draftOf(doc)
      alone.plugins = [candidate as never]
      const check = validateWrite(alone, kind, candidate.id as string, env.registry)
      if (!check.ok) return check
    }
    return fail(conflict)
  }
  const draft = draftOf(doc)
  const list = draft[kind]
  const at = previousId === undefined ? -1 : list.findIndex((e) => e.id === previousId)
  if (at >= 0) list[at] = candidate
  else list.push(candidate)
  const result = validateWrite(draft, kind, candidate.id as string, env.registry, invalid)
  if (!result.ok) return result
  const entity = listOf(result.doc, kind).find((e) => e.id === candidate.id) as Entity
  const refused = checkUpstreams(result.doc, kind, entity, env.policy)
  if (refused !== undefined) return fail(refused)
  return { ok: true, doc: result.doc, entity }
}

/**
 * `POST /{collection}`: a new entity with a random id (or the one given), Kong's generated
 * values and timestamps. `forced` holds the foreign keys a nested URL implies
 * (`/services/{s}/routes` → `service`), which win over the body's.
 *
 * @example
 *   createEntity(doc, 'services', { name: 'users', url: 'http://users:8080' }, env)
 */
export function createEntity(
  doc: ConfigDocument,
  kind: Kind,
  body: Entity,
  env: WriteEnv,
  forced: Record<string, Ref> = {},
): OpResult {
  const split = resolveRefs(doc, kind, body)
  if ('error' in split) return fail(split.error)
  const { refs, rest, invalid } = split
  if (rest.id !== undefined && rest.id !== null) {
    if (
      isUuid(rest.id) &&
      listOf(doc, kind).some((e) => e.id.toLowerCase() === String(rest.id).toLowerCase())
    ) {
      return fail(primaryKeyViolation(String(rest.id)))
    }
  } else rest.id = randomUUID()
  return save(doc, kind, rest, undefined, { ...refs, ...forced }, env, rest.ttl, invalid)
}

/**
 * `PATCH`: the given fields over the stored entity (records merged field by field, `null`
 * unsets), the service `url` shorthand expanded, a changed basic-auth password hashed.
 *
 * @example
 *   updateEntity(doc, 'services', existing, { retries: 6 }, env)
 */
export function updateEntity(
  doc: ConfigDocument,
  kind: Kind,
  existing: Entity,
  body: Entity,
  env: WriteEnv,
  forced: Record<string, Ref> = {},
): OpResult {
  const split = resolveRefs(doc, kind, body)
  if ('error' in split) return fail(split.error)
  const { refs, rest, invalid } = split
  if (rest.id !== undefined && rest.id !== null && rest.id !== existing.id) {
    return fail(schemaViolation([{ path: 'id', message: 'the id of an entity cannot be changed' }]))
  }
  delete rest.id
  // Kong hashes a password with its consumer's id, so moving a credential to another consumer
  // needs the password again (basic-auth daos.lua transformations); Portico keeps the rule
  if (kind === 'basicauth_credentials' && refs.consumer != null && rest.password === undefined) {
    return fail(
      schemaViolation([
        { path: '', message: "all or none of these fields must be set: 'password', 'consumer.id'" },
      ]),
    )
  }
  let patch = rest
  if (kind === 'services' && typeof patch.url === 'string') {
    const parsed = parseServiceUrl(patch.url)
    if (!parsed.ok) return fail(schemaViolation([{ path: 'url', message: parsed.message }]))
    const { url: _url, ...others } = patch
    patch = { ...others, ...parsed.value, path: parsed.value.path ?? null }
  }
  const base: Entity = { ...existing }
  for (const field of Object.keys(SPECS[kind].refs)) delete base[field]
  let merged = mergePatch(SPECS[kind].schema, base, patch)
  if (kind === 'plugins') merged = mergePluginConfig(env.registry, existing, patch, merged)
  const keptRefs: Record<string, Ref | null> = {}
  for (const field of Object.keys(SPECS[kind].refs)) {
    if (existing[field] !== undefined) keptRefs[field] = existing[field] as Ref
  }
  return save(doc, kind, merged, existing, { ...keptRefs, ...refs, ...forced }, env, patch.ttl, invalid)
}

function mergePluginConfig(
  registry: PluginRegistry,
  existing: Entity,
  patch: Entity,
  merged: Entity,
): Entity {
  const config = patch.config
  const sameName = patch.name === undefined || patch.name === existing.name
  if (!sameName || config === null || typeof config !== 'object' || Array.isArray(config)) return merged
  const schema = registry.get(String(existing.name))?.schema
  const base = (existing.config ?? {}) as Entity
  return { ...merged, config: mergePatch(schema, base, config as Entity, true) }
}

/**
 * `PUT /{collection}/{key}`: creates the entity with that id (or endpoint key, e.g. a name), or
 * replaces the existing one whole (fields not given fall back to their defaults); the id and
 * `created_at` of a replaced entity are kept.
 *
 * @example
 *   upsertEntity(doc, 'services', 'users', existingOrUndefined, { url: 'http://users:8080' }, env)
 */
export function upsertEntity(
  doc: ConfigDocument,
  kind: Kind,
  key: string,
  existing: Entity | undefined,
  body: Entity,
  env: WriteEnv,
  forced: Record<string, Ref> = {},
): OpResult {
  const split = resolveRefs(doc, kind, body)
  if ('error' in split) return fail(split.error)
  const { refs, rest, invalid } = split
  const endpointKey = SPECS[kind].endpointKey
  const byId = isUuid(key)
  const id = existing?.id ?? (byId ? key : randomUUID())
  if (rest.id !== undefined && rest.id !== null && rest.id !== id) {
    return fail(schemaViolation([{ path: 'id', message: 'must match the id in the URL' }]))
  }
  if (!byId && endpointKey !== undefined) {
    if (rest[endpointKey] !== undefined && rest[endpointKey] !== key) {
      return fail(
        schemaViolation([{ path: endpointKey, message: `must match the ${endpointKey} in the URL` }]),
      )
    }
    rest[endpointKey] = key
  }
  rest.id = id
  return save(doc, kind, rest, existing, { ...refs, ...forced }, env, rest.ttl, invalid)
}

/**
 * `DELETE`: removes the entity and, as Kong's cascades, what belongs to it (a service's routes
 * and their plugins, its plugins; a consumer's credentials and plugins; an upstream's targets).
 *
 * @example
 *   deleteEntity(doc, 'services', service.id, env)
 */
export function deleteEntity(doc: ConfigDocument, kind: Kind, id: string, env: WriteEnv): OpResult {
  const draft = draftOf(doc)
  const remove = (k: Kind, ids: ReadonlySet<string>) => {
    if (ids.size === 0) return
    draft[k] = draft[k].filter((e) => !ids.has(e.id as string))
    for (const { kind: child, field } of SPECS[k].cascade) {
      const owned = draft[child].filter((e) => ids.has((e[field] as Ref | undefined)?.id ?? ''))
      remove(child, new Set(owned.map((e) => e.id as string)))
    }
  }
  remove(kind, new Set([id]))
  const result = validateWrite(draft, kind, undefined, env.registry)
  return result.ok ? { ok: true, doc: result.doc } : result
}

import type { ConfigDocument } from '../core/entities.js'
import { type Kind, listOf, SPECS } from './kinds.js'

// Kong's `ttl` entities (key-auth credentials: `ttl = true` in their schema). The document
// stores `ttl` as seconds after `created_at`, which is what Kong stores too (its expiry is
// `created_at + ttl`, daos.lua) and what a declarative file says; the key-auth plugin refuses
// the key from then on. The Admin API shows what Kong's database shows: the seconds left
// (kinds.ts `present`), and no entity once they are gone.

type Entity = Record<string, unknown>

/** When an entity of a ttl kind expires, in seconds since the epoch; undefined when it never does. */
export function expiresAt(kind: Kind, entity: Entity): number | undefined {
  if (!SPECS[kind].ttl) return undefined
  const { ttl, created_at: created } = entity
  if (typeof ttl !== 'number' || ttl <= 0 || typeof created !== 'number') return undefined
  return created + ttl
}

/**
 * The document without its expired entities (the same object when none has expired): what the
 * Admin API reads, and what a write starts from, so an expired credential is gone with the
 * next write (Kong's cleanup of expired rows) and its key can be taken again.
 *
 * @example
 *   const doc = live(cp.document, Date.now())
 */
export function live(doc: ConfigDocument, nowMs: number): ConfigDocument {
  const now = nowMs / 1000
  let out: ConfigDocument | undefined
  for (const kind of TTL_KINDS) {
    const list = listOf(doc, kind)
    const expired = (e: Entity) => (expiresAt(kind, e) ?? Number.POSITIVE_INFINITY) < now
    if (!list.some(expired)) continue
    out ??= { ...doc }
    ;(out as Record<Kind, unknown>)[kind] = list.filter((e) => !expired(e))
  }
  return out ?? doc
}

/**
 * Kong's `ttl` given on a write: seconds from now (on an insert `created_at` is now, so the
 * stored value is the one given); 0 removes the expiry. A value that is not a non-negative
 * integer is left for the schema to refuse.
 *
 * @example
 *   applyTtl('keyauth_credentials', entity, body.ttl, Date.now())
 */
export function applyTtl(kind: Kind, entity: Entity, given: unknown, nowMs: number): void {
  if (!SPECS[kind].ttl || typeof given !== 'number' || !Number.isInteger(given) || given < 0) return
  const created = entity.created_at
  if (given === 0) delete entity.ttl
  else if (typeof created === 'number') entity.ttl = Math.floor(nowMs / 1000) + given - created
}

const TTL_KINDS = (Object.keys(SPECS) as Kind[]).filter((k) => SPECS[k].ttl)

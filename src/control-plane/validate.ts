import { validateDocument } from '../config/index.js'
import type { ConfigDocument, ConfigIssue } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'
import { type ApiError, schemaViolation } from './errors.js'
import { type Kind, listOf } from './kinds.js'

/** A document being written: the stored entities with one or more of them replaced by raw input. */
export type DraftDocument = { [K in Kind]: Array<Record<string, unknown>> }

/** The stored document as a draft (entity objects are shared, never mutated). */
export function draftOf(doc: ConfigDocument): DraftDocument {
  const draft = {} as DraftDocument
  for (const kind of Object.keys(doc) as Kind[]) draft[kind] = [...listOf(doc, kind)]
  return draft
}

/**
 * The declarative input that describes a (draft) document: flat lists, explicit ids, foreign
 * keys as `{ id }`, and `_transform: false` because stored basic-auth passwords are hashed.
 *
 * @example
 *   validateDocument(toDeclarativeInput(doc), registry) // → the same document back
 */
export function toDeclarativeInput(doc: ConfigDocument | DraftDocument): Record<string, unknown> {
  return { _format_version: '3.0', _transform: false, ...doc }
}

export type Validated = { ok: true; doc: ConfigDocument } | { ok: false; issues: ConfigIssue[] }

/** Validates a whole draft with the config layer: the one gate every write goes through. */
export function validateDraft(draft: DraftDocument, registry: PluginRegistry): Validated {
  const { document, issues } = validateDocument(toDeclarativeInput(draft), registry)
  return document === null ? { ok: false, issues } : { ok: true, doc: document }
}

/**
 * Validates a draft in which the entity `id` of `kind` was written, and words the outcome for
 * that entity: its issues as Kong's nested `fields` relative to it (with `extra`, issues found
 * before validation, relative to it too); issues elsewhere in the document (a write can only
 * cause them through references) under `@entity` with their path.
 *
 * @example
 *   const r = validateWrite(draft, 'routes', route.id, registry)
 *   if (!r.ok) return r.error // 400 { code: 2, fields: { paths: ['…'] } }
 */
export function validateWrite(
  draft: DraftDocument,
  kind: Kind,
  id: string | undefined,
  registry: PluginRegistry,
  extra: readonly ConfigIssue[] = [],
): { ok: true; doc: ConfigDocument } | { ok: false; error: ApiError } {
  const result = validateDraft(draft, registry)
  if (result.ok && extra.length === 0) return result
  const index = id === undefined ? -1 : draft[kind].findIndex((e) => e.id === id)
  const base = `${kind}[${index}]`
  const own = (i: ConfigIssue) => index >= 0 && (i.path === base || i.path.startsWith(`${base}.`))
  const issues = result.ok ? [] : result.issues
  const mine = [
    ...issues.filter(own),
    ...extra.map((i) => ({ path: `${base}.${i.path}`, message: i.message })),
  ]
  const others = issues.filter((i) => !own(i)).map((i) => ({ path: '', message: `${i.path}: ${i.message}` }))
  return { ok: false, error: schemaViolation([...mine, ...others], base) }
}

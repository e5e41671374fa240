import type { z } from 'zod'
import type { ConfigIssue } from '../core/entities.js'
import { joinPath } from './issues.js'
import { alwaysSet, child, element, typeOf } from './schema-shape.js'

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Kong's reading of an explicit `null` in a record (schema.lua `adjust_field_for_context` and
 * `validate_field`): an absent field takes its default, but a `null` stays null, and on a field
 * that must always have a value (a default, or required: Kong's `required = true`) it is
 * `required field missing`. A `null` on an optional field unsets it, as before. Records are
 * followed into their fields and into arrays of records; the issues' paths start at `base`.
 *
 * Kong's exports write `null` only for fields without a value, so an exported plugin still loads.
 *
 * @example
 *   requiredNulls(schema, { remove: { headers: null } }, 'plugins[0].config')
 *   // → [{ path: 'plugins[0].config.remove.headers', message: 'required field missing' }]
 */
export function requiredNulls(schema: z.ZodType, value: unknown, base: string): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  walk(schema, value, base, issues)
  return issues
}

function walk(schema: z.ZodType, value: unknown, path: string, issues: ConfigIssue[]): void {
  if (Array.isArray(value)) {
    const el = element(schema)
    if (el !== undefined) for (const [i, item] of value.entries()) walk(el, item, joinPath(path, i), issues)
    return
  }
  // only records with declared fields: a map's (`route.headers`) values are not fields
  if (!isRecord(value) || typeOf(schema) !== 'object') return
  for (const [key, v] of Object.entries(value)) {
    const field = child(schema, key)
    if (field === undefined) continue // an unknown field: the schema reports it
    if (v === null) {
      if (alwaysSet(field)) issues.push({ path: joinPath(path, key), message: 'required field missing' })
    } else walk(field, v, joinPath(path, key), issues)
  }
}

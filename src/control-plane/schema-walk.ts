import type { z } from 'zod'
import { child, def, element, typeOf, unwrap } from '../config/schema-shape.js'

// Uses the shape of the zod schemas the config layer and the plugins define (read by
// config/schema-shape.ts), so the Admin API can do what Kong does with its own schemas: infer
// the types of form-encoded values, merge PATCH bodies record by record, and list an entity's
// fields. Only the structure is read; validation stays with the schemas themselves.

export { child, element, fieldNames, typeOf, unwrap } from '../config/schema-shape.js'

function unionTypes(schema: z.ZodType): string[] {
  const d = def(unwrap(schema))
  return d.type === 'union' ? (d.options ?? []).map(typeOf) : [typeOf(schema)]
}

function inferScalar(schema: z.ZodType, value: string): unknown {
  // Kong: an empty form value means null (unset the field), whatever its type
  if (value === '') return null
  const types = unionTypes(schema)
  if (types.includes('string') || types.includes('enum')) return value
  if (types.includes('number') || types.includes('int') || types.includes('bigint')) {
    const n = Number(value)
    if (value.trim() !== '' && Number.isFinite(n)) return n
  }
  if (types.includes('boolean')) {
    if (value === 'true') return true
    if (value === 'false') return false
  }
  return value
}

/**
 * Kong's form inference (`arguments.infer`): form-encoded values are strings, so numbers and
 * booleans are converted where the schema expects them, a single value becomes a one-element
 * list where it expects a list, and an empty value becomes null. JSON bodies are never inferred.
 *
 * @example
 *   inferForm(routeSchema, { paths: '/api', strip_path: 'false' }) // → { paths: ['/api'], strip_path: false }
 */
export function inferForm(schema: z.ZodType | undefined, value: unknown): unknown {
  if (schema === undefined) return value
  const type = typeOf(schema)
  if (type === 'array') {
    const items = Array.isArray(value) ? value : [value]
    if (value === '') return null
    const el = element(schema)
    return items.map((item) => inferForm(el, item))
  }
  if (typeof value === 'string') return inferScalar(schema, value)
  if (Array.isArray(value)) return value.map((item) => inferForm(schema, item))
  if (value !== null && typeof value === 'object' && (type === 'object' || type === 'record')) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = inferForm(child(schema, k), v)
    return out
  }
  return value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Kong's PATCH merge: the given fields replace the stored ones, `null` unsets a field, and a
 * record-typed field (an object with declared fields, like a plugin's `config` or an upstream's
 * `healthchecks`) is merged field by field. Maps (`route.headers`) and lists are replaced whole.
 * With `keepNulls` (a plugin's config) a `null` stays in the result for validation to read: it
 * unsets an optional field there and is `required field missing` on one that needs a value.
 *
 * @example
 *   mergePatch(schema, { config: { minute: 5, hour: 100 } }, { config: { minute: 10 } })
 *   // → { config: { minute: 10, hour: 100 } }
 */
export function mergePatch(
  schema: z.ZodType | undefined,
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
  keepNulls = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    const field = schema === undefined ? undefined : child(schema, key)
    if (value === null) {
      if (keepNulls) out[key] = null
      else delete out[key]
    } else if (
      field !== undefined &&
      typeOf(field) === 'object' &&
      isPlainObject(value) &&
      isPlainObject(out[key])
    ) {
      out[key] = mergePatch(field, out[key] as Record<string, unknown>, value, keepNulls)
    } else out[key] = value
  }
  return out
}

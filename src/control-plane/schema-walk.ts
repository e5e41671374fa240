import type { z } from 'zod'

// Reads the shape of the zod schemas the config layer and the plugins define, so the Admin API
// can do what Kong does with its own schemas: infer the types of form-encoded values, merge
// PATCH bodies record by record, and list an entity's fields. Only the structure is read;
// validation stays with the schemas themselves.

type Def = {
  type: string
  innerType?: z.ZodType
  in?: z.ZodType
  out?: z.ZodType
  shape?: Record<string, z.ZodType>
  element?: z.ZodType
  valueType?: z.ZodType
  options?: z.ZodType[]
  values?: unknown[]
  getter?: () => z.ZodType
}

const def = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'])

/**
 * The schema that describes the input's structure: wrappers (optional, default, …) removed,
 * `preprocess` and `transform` pipes read on their structural side.
 *
 * @example
 *   unwrap(serviceSchema) // → the strict object behind the url preprocessing
 */
export function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema
  for (let depth = 0; depth < 32; depth++) {
    const d = def(current)
    if (WRAPPERS.has(d.type) && d.innerType) current = d.innerType
    else if (d.type === 'pipe' && d.in && d.out) current = def(d.in).type === 'transform' ? d.out : d.in
    else if (d.type === 'lazy' && d.getter) current = d.getter()
    else return current
  }
  return current
}

/** The kind of value a schema expects, as far as form inference and merging care. */
export function typeOf(schema: z.ZodType): string {
  const d = def(unwrap(schema))
  if (d.type === 'literal' && d.values?.every((v) => typeof v === 'number')) return 'number'
  if (d.type === 'literal' && d.values?.every((v) => typeof v === 'boolean')) return 'boolean'
  return d.type
}

/** The schema of `key` inside an object (its field) or a record (its values). */
export function child(schema: z.ZodType, key: string): z.ZodType | undefined {
  const d = def(unwrap(schema))
  if (d.type === 'object') return Object.hasOwn(d.shape ?? {}, key) ? d.shape?.[key] : undefined
  if (d.type === 'record') return d.valueType
  return undefined
}

/** The element schema of an array schema. */
export function element(schema: z.ZodType): z.ZodType | undefined {
  const d = def(unwrap(schema))
  return d.type === 'array' ? d.element : undefined
}

/** The field names of an object schema (empty for anything else). */
export function fieldNames(schema: z.ZodType): string[] {
  const d = def(unwrap(schema))
  return d.type === 'object' ? Object.keys(d.shape ?? {}) : []
}

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
 *
 * @example
 *   mergePatch(schema, { config: { minute: 5, hour: 100 } }, { config: { minute: 10 } })
 *   // → { config: { minute: 10, hour: 100 } }
 */
export function mergePatch(
  schema: z.ZodType | undefined,
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    const field = schema === undefined ? undefined : child(schema, key)
    if (value === null) delete out[key]
    else if (
      field !== undefined &&
      typeOf(field) === 'object' &&
      isPlainObject(value) &&
      isPlainObject(out[key])
    ) {
      out[key] = mergePatch(field, out[key] as Record<string, unknown>, value)
    } else out[key] = value
  }
  return out
}

import type { z } from 'zod'

// Reads the structure of a zod schema (its fields, elements and wrappers) without validating
// anything: what Kong's own code reads from its schemas (a field's type, whether it always has
// a value). The Admin API's form inference and PATCH merge and the config layer's null check
// use it.

export type Def = {
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

// a schema that is not zod's (a plugin may bring any object with `safeParse`) has no structure to read
const OPAQUE: Def = { type: 'unknown' }

export const def = (schema: z.ZodType): Def =>
  (schema as unknown as { _zod?: { def: Def } })._zod?.def ?? OPAQUE

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

/**
 * Whether a field always has a value once validated (a default, or required): Kong's
 * `required = true`. An optional field (`.optional()`, also under a default) may stay unset.
 *
 * @example
 *   alwaysSet(z.array(z.string()).default([])) // → true
 *   alwaysSet(z.string().optional())           // → false
 */
export function alwaysSet(schema: z.ZodType): boolean {
  return (schema as unknown as { _zod?: { optout?: string } })._zod?.optout !== 'optional'
}

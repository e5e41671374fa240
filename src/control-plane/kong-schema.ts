import { z } from 'zod'
import type { PluginDefinition } from '../core/plugin.js'
import type { KindSpec } from './kinds.js'
import { unwrap } from './schema-walk.js'

// Kong's schema format for `/schemas/{entity}` and `/schemas/plugins/{name}`
// (kong/api/api_helpers.lua `schema_to_jsonable`), which Kong's tools read: an ordered `fields`
// array of `{ name: { type, required, default, one_of, between, elements, fields, … } }` and
// `entity_checks`. Derived from the JSON Schema zod gives of the structural side of each schema,
// so it never drifts from what is validated.

type Json = {
  type?: string | string[]
  properties?: Record<string, Json>
  required?: string[]
  additionalProperties?: Json | boolean
  items?: Json
  enum?: unknown[]
  const?: unknown
  default?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  minItems?: number
  minLength?: number
  maxLength?: number
  description?: string
  anyOf?: Json[]
  oneOf?: Json[]
}
type KongField = Record<string, unknown>
type Fields = Array<Record<string, KongField>>

const SAFE_INTEGER = 2 ** 53 - 1

function scalarType(js: Json): string {
  const t = Array.isArray(js.type) ? js.type.find((x) => x !== 'null') : js.type
  if (t === 'integer' || t === 'number' || t === 'string' || t === 'boolean') return t
  if (js.enum !== undefined) return typeof js.enum[0] === 'number' ? 'integer' : 'string'
  return 'any'
}

function field(js: Json, required: boolean): KongField {
  const variants = js.anyOf ?? js.oneOf
  // a union (a number or a string, …): Kong has no such type; its first form is described
  const base: Json =
    variants !== undefined ? { ...variants[0], default: js.default, description: js.description } : js
  const out: KongField = {}
  if (base.type === 'object' && base.properties !== undefined) {
    out.type = 'record'
    out.fields = fieldsOf(base)
  } else if (base.type === 'object') {
    out.type = 'map'
    out.keys = { type: 'string' }
    out.values =
      typeof base.additionalProperties === 'object'
        ? field(base.additionalProperties, false)
        : { type: 'any' }
  } else if (base.type === 'array') {
    out.type = 'array'
    out.elements = base.items === undefined ? { type: 'any' } : field(base.items, false)
    if (base.minItems !== undefined && base.minItems > 0) out.len_min = base.minItems
  } else {
    out.type = scalarType(base)
    if (base.enum !== undefined) out.one_of = base.enum
    if (base.minimum !== undefined && base.maximum !== undefined && base.maximum < SAFE_INTEGER)
      out.between = [base.minimum, base.maximum]
    if (base.exclusiveMinimum !== undefined) out.gt = base.exclusiveMinimum
    if (base.minLength !== undefined && base.minLength > 0) out.len_min = base.minLength
    if (base.maxLength !== undefined) out.len_max = base.maxLength
  }
  // Kong marks a field with a default as required (it is never absent once stored)
  if (required || base.default !== undefined) out.required = true
  // a record's default is its fields' defaults: Kong shows none on the record itself
  const emptyRecord = out.type === 'record' && isEmptyObject(base.default)
  if (base.default !== undefined && !emptyRecord) out.default = base.default
  if (base.description !== undefined) out.description = base.description
  return out
}

const isEmptyObject = (v: unknown) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0

function fieldsOf(js: Json): Fields {
  const required = new Set(js.required ?? [])
  return Object.entries(js.properties ?? {})
    .filter(([name]) => !name.startsWith('_'))
    .map(([name, sub]) => ({ [name]: field(sub, required.has(name)) }))
}

const jsonOf = (schema: z.ZodType): Json =>
  z.toJSONSchema(unwrap(schema), { io: 'input', unrepresentable: 'any' }) as Json

// Kong's entity checks for the entities whose rules clients rely on
const ENTITY_CHECKS: Record<string, unknown[]> = {
  consumers: [{ at_least_one_of: ['custom_id', 'username'] }],
  routes: [{ at_least_one_of: ['methods', 'hosts', 'headers', 'paths', 'snis', 'sources', 'destinations'] }],
}

/**
 * `/schemas/{entity}` in Kong's format: the entity's fields with their foreign keys.
 *
 * @example
 *   entitySchema(SPECS.services) // → { fields: [{ id: { type: 'string', … } }, …], entity_checks: [] }
 */
export function entitySchema(spec: KindSpec): { fields: Fields; entity_checks: unknown[] } {
  const known = new Set(spec.fields)
  // write-only shorthands (`url`) are not fields; ids and timestamps are Kong's auto fields
  const fields = fieldsOf(jsonOf(spec.schema))
    .filter((f) => known.has(Object.keys(f)[0] as string))
    .map((f) => {
      const [name, def] = Object.entries(f)[0] as [string, KongField]
      if (name === 'id') return { id: { type: 'string', uuid: true, auto: true } }
      if (name === 'created_at' || name === 'updated_at')
        return { [name]: { type: spec.msTimestamps ? 'number' : 'integer', timestamp: true, auto: true } }
      return { [name]: def }
    })
  for (const [name, reference] of Object.entries(spec.refs)) {
    fields.push({ [name]: { type: 'foreign', reference, on_delete: 'cascade' } })
  }
  return { fields, entity_checks: ENTITY_CHECKS[spec.kind] ?? [] }
}

/**
 * `/schemas/plugins/{name}` in Kong's format: the plugin entity's scope fields and its `config`
 * record (an auth plugin's consumer is `eq: null`, Kong's `no_consumer`).
 *
 * @example
 *   pluginSchema(registry.get('key-auth')) // → { fields: [{ consumer: …}, …, { config: { type: 'record', fields: […] } }] }
 */
export function pluginKongSchema(def: PluginDefinition): { fields: Fields; entity_checks: unknown[] } {
  const consumer: KongField = { type: 'foreign', reference: 'consumers' }
  if (def.noConsumer !== undefined && def.noConsumer !== false) consumer.eq = null
  const config = fieldsOf(jsonOf(def.schema))
  return {
    fields: [
      { consumer },
      { service: { type: 'foreign', reference: 'services' } },
      { route: { type: 'foreign', reference: 'routes' } },
      {
        protocols: {
          type: 'set',
          required: true,
          default: ['grpc', 'grpcs', 'http', 'https'],
          elements: { type: 'string', one_of: ['grpc', 'grpcs', 'http', 'https', 'ws', 'wss'] },
        },
      },
      { config: { type: 'record', required: true, fields: config } },
    ],
    entity_checks: [],
  }
}

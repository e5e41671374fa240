import { splitPair } from '../kit/transform/pairs.js'
import { appendValue, put } from '../kit/transform/values.js'

type JsonObject = Record<string, unknown>
type JsonType = 'boolean' | 'number' | 'string'

/** A `name:value` JSON entry compiled at load: its value already typed (or unusable). */
export interface JsonEntry {
  name: string
  value: unknown
}

/**
 * Kong's `json_value`: the text after the colon, cast by `json_types[i]`. An empty value is the
 * string "null" (Kong encodes a missing value), a number that does not parse drops the entry.
 *
 * @example
 *   compileJsonEntries(['count:3', 'ok:true', 'id:7'], ['number', 'boolean'])
 *   // → [{ name: 'count', value: 3 }, { name: 'ok', value: true }, { name: 'id', value: '7' }]
 */
export function compileJsonEntries(entries: readonly string[], types: readonly JsonType[]): JsonEntry[] {
  const out: JsonEntry[] = []
  entries.forEach((entry, i) => {
    const { name, value } = splitPair(entry)
    const raw = value === '' ? 'null' : value
    const type = types[i]
    if (type === 'number') {
      const n = raw.trim() === '' ? Number.NaN : Number(raw.trim())
      if (Number.isFinite(n)) out.push({ name, value: n })
    } else if (type === 'boolean') out.push({ name, value: raw === 'true' })
    else out.push({ name, value: raw })
  })
  return out
}

/** The body's JSON operations, compiled once. */
export interface JsonOps {
  remove: string[]
  rename: Array<[string, string]>
  replace: JsonEntry[]
  add: JsonEntry[]
  append: JsonEntry[]
}

/**
 * Applies remove, rename, replace, add, append to a JSON object body, as Kong's body
 * transformer does (`replace` only over a value that is there and not false, `add` only where
 * there is none or false). Anything but an object (an array, a bad document) is left as is:
 * returns null.
 *
 * @example
 *   transformJson('{"a":1,"secret":"x"}', ops)   // → '{"a":1,"version":"2"}' for remove secret, add version:2
 */
export function transformJson(text: string, ops: JsonOps): string | null {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return null
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null
  const o = doc as JsonObject
  for (const name of ops.remove) delete o[name]
  for (const [from, to] of ops.rename) {
    if (!Object.hasOwn(o, from)) continue
    const v = o[from]
    delete o[from]
    put(o, to, v)
  }
  for (const e of ops.replace) {
    if (Object.hasOwn(o, e.name) && o[e.name] !== false) put(o, e.name, e.value)
  }
  for (const e of ops.add) {
    if (!Object.hasOwn(o, e.name) || o[e.name] === false) put(o, e.name, e.value)
  }
  for (const e of ops.append)
    put(o, e.name, appendValue(Object.hasOwn(o, e.name) ? o[e.name] : undefined, e.value))
  return JSON.stringify(o)
}

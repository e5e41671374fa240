/** Keys that would reach an object's prototype if a body were ever merged carelessly. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

export class ForbiddenKeyError extends Error {
  constructor(readonly key: string) {
    super(`field name '${key}' is not allowed`)
  }
}

type Node = Record<string, unknown>

interface Indexed {
  /** `a[2]=x` entries, turned into a list (by index order) once every pair is read */
  readonly indexed: Map<number, unknown>
}

const isIndexed = (v: unknown): v is Indexed => v !== null && typeof v === 'object' && 'indexed' in v

function checkKey(key: string): string {
  if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKeyError(key)
  return key
}

/** Parses one step of a key: `name`, `name[]` or `name[3]`. */
function parseStep(step: string): { name: string; index: number | 'push' | undefined } {
  const m = /^(.+?)\[(\d*)\]$/.exec(step)
  if (m === null) return { name: checkKey(step), index: undefined }
  return { name: checkKey(m[1] as string), index: m[2] === '' ? 'push' : Number(m[2]) }
}

function combine(existing: unknown, value: unknown): unknown {
  if (existing === undefined) return value
  if (Array.isArray(existing)) return [...existing, value]
  return [existing, value]
}

function assign(root: Node, key: string, value: string): void {
  // Kong (arguments.decode_arg): a key starting or ending with a dot is taken literally
  const steps = key.startsWith('.') || key.endsWith('.') ? [key] : key.split('.')
  let node: Node = root
  steps.forEach((raw, i) => {
    const last = i === steps.length - 1
    const { name, index } = parseStep(raw)
    if (last) {
      if (index === undefined) node[name] = combine(node[name], value)
      else if (index === 'push')
        node[name] = Array.isArray(node[name]) ? [...(node[name] as unknown[]), value] : [value]
      else {
        const slot = isIndexed(node[name]) ? (node[name] as Indexed) : { indexed: new Map<number, unknown>() }
        slot.indexed.set(index, value)
        node[name] = slot
      }
      return
    }
    let next = node[name]
    if (next === null || typeof next !== 'object' || Array.isArray(next) || isIndexed(next)) {
      next = {}
      node[name] = next
    }
    node = next as Node
  })
}

function finish(value: unknown): unknown {
  if (isIndexed(value)) {
    return [...value.indexed.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => finish(v))
  }
  if (Array.isArray(value)) return value.map(finish)
  if (value !== null && typeof value === 'object') {
    const out: Node = {}
    for (const [k, v] of Object.entries(value)) out[k] = finish(v)
    return out
  }
  return value
}

/**
 * Decodes form fields the way Kong's Admin API does (kong/api/arguments.lua): dots nest
 * (`config.minute=5` → `{ config: { minute: '5' } }`), `[]` appends (`paths[]=/a`), `[n]` places
 * by index (`config.key_names[1]=apikey`), and a repeated key becomes a list. Values stay
 * strings; {@link inferForm} converts them by schema. Throws {@link ForbiddenKeyError} on
 * `__proto__`, `constructor` or `prototype`.
 *
 * @example
 *   decodeForm([['name', 'rate-limiting'], ['config.minute', '5'], ['paths[]', '/a']])
 *   // → { name: 'rate-limiting', config: { minute: '5' }, paths: ['/a'] }
 */
export function decodeForm(pairs: Iterable<[string, string]>): Record<string, unknown> {
  const root: Node = {}
  for (const [key, value] of pairs) assign(root, key, value)
  return finish(root) as Record<string, unknown>
}

/**
 * Throws {@link ForbiddenKeyError} when any object in a parsed JSON body has a forbidden key, or
 * when it nests deeper than `maxDepth`.
 *
 * @example
 *   assertSafeKeys(JSON.parse('{"__proto__": {"admin": true}}')) // throws
 */
export function assertSafeKeys(value: unknown, maxDepth = 64, depth = 0): void {
  if (value === null || typeof value !== 'object') return
  if (depth > maxDepth) throw new ForbiddenKeyError('(nesting deeper than 64 levels)')
  if (Array.isArray(value)) {
    for (const item of value) assertSafeKeys(item, maxDepth, depth + 1)
    return
  }
  for (const key of Object.keys(value)) {
    checkKey(key)
    assertSafeKeys((value as Node)[key], maxDepth, depth + 1)
  }
}

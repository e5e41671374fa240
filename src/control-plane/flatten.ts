import { SPECS } from '../config/collect.js'
import type { ConfigIssue } from '../core/entities.js'

/** One entity's errors, as Kong's `?flatten_errors=1` lists them (kong/db/errors.lua). */
export interface FlatEntityErrors {
  entity_type: string
  entity_name?: string
  entity_id?: string
  entity_tags?: string[]
  entity: Record<string, unknown>
  errors: Array<{ type: 'field'; field: string; message: string } | { type: 'entity'; message: string }>
}

type Steps = Array<string | number>

/** Splits an issue path (`config.limits[0]["x.y"]`) into its steps. */
export function splitPath(path: string): Steps {
  const steps: Array<string | number> = []
  const re = /([^.[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    if (m[1] !== undefined) steps.push(m[1])
    else if (m[2] !== undefined) steps.push(Number(m[2]))
    else if (m[3] !== undefined) steps.push(JSON.parse(m[3]) as string)
  }
  return steps
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The deepest entity an issue path reaches in the input, and the field path left after it. */
function locate(
  input: Record<string, unknown>,
  steps: Steps,
): { kind: string; at: string; entity: Record<string, unknown>; rest: Steps } | undefined {
  const [top, index] = steps
  if (typeof top !== 'string' || !(top in SPECS) || typeof index !== 'number') return undefined
  const list = input[top]
  if (!Array.isArray(list) || !isRecord(list[index])) return undefined
  let found = {
    kind: top,
    at: `${top}[${index}]`,
    entity: list[index] as Record<string, unknown>,
    rest: steps.slice(2),
  }
  for (;;) {
    const [child, i] = found.rest
    const nested = SPECS[found.kind as keyof typeof SPECS].nested as string[]
    if (typeof child !== 'string' || !nested.includes(child) || typeof i !== 'number') return found
    const entry = (found.entity[child] as unknown[] | undefined)?.[i]
    if (!isRecord(entry)) return found
    found = { kind: child, at: `${found.at}.${child}[${i}]`, entity: entry, rest: found.rest.slice(2) }
  }
}

const singular = (kind: string) => (kind.endsWith('s') ? kind.slice(0, -1) : kind)

/**
 * Kong's `flattened_errors`: the issues grouped by the entity of the input they belong to, with
 * the entity as written and each error as `field` (dotted path inside the entity) or `entity`.
 * Issues that belong to no entity (top-level keys) are returned apart, for `fields`.
 *
 * @example
 *   flattenIssues([{ path: 'services[0].port', message: 'value should be between 0 and 65535' }], input)
 *   // → { flattened: [{ entity_type: 'service', entity: {...}, errors: [{ type: 'field', field: 'port', … }] }], rest: [] }
 */
export function flattenIssues(
  issues: readonly ConfigIssue[],
  input: unknown,
): { flattened: FlatEntityErrors[]; rest: ConfigIssue[] } {
  const byEntity = new Map<string, FlatEntityErrors>()
  const rest: ConfigIssue[] = []
  for (const issue of issues) {
    const found = isRecord(input) ? locate(input, splitPath(issue.path)) : undefined
    if (found === undefined) {
      rest.push(issue)
      continue
    }
    let entry = byEntity.get(found.at)
    if (entry === undefined) {
      const { entity } = found
      entry = { entity_type: singular(found.kind), entity, errors: [] }
      if (typeof entity.name === 'string') entry.entity_name = entity.name
      if (typeof entity.id === 'string') entry.entity_id = entity.id
      if (Array.isArray(entity.tags) && entity.tags.every((t) => typeof t === 'string'))
        entry.entity_tags = entity.tags
      byEntity.set(found.at, entry)
    }
    entry.errors.push(
      found.rest.length === 0
        ? { type: 'entity', message: issue.message }
        : { type: 'field', field: found.rest.join('.'), message: issue.message },
    )
  }
  return { flattened: [...byEntity.values()], rest }
}

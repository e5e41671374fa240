import type { ConfigIssue } from '../core/entities.js'
import { type Item, impliedRef, type Kind, SPECS } from './collect.js'
import { entityId, isUuid } from './ids.js'
import { joinPath } from './issues.js'

// The field other entities may use to name an entity of this kind instead of its id.
const NAME_FIELD: Partial<Record<Kind, string>> = {
  services: 'name',
  routes: 'name',
  upstreams: 'name',
  consumers: 'username',
  snis: 'name',
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/**
 * What identifies an entity among its kind when it has no id: its name where Kong would use it
 * (so the id is Kong's own), otherwise its natural key or where it sits in the file.
 */
function naturalKey(item: Item, jwtSeen: Map<string, number>): { table: string; key: string } {
  const raw = item.raw
  const name = text(raw[NAME_FIELD[item.kind] ?? ''])
  if (name !== undefined) return { table: item.kind, key: name }
  const scope = (field: string) => item.resolved[field] ?? String(item.refs[field] ?? '')
  const parentKey = item.parent
    ? `${item.parent.id}:${item.path.slice(item.parent.path.length + 1)}`
    : item.path
  const keys: Partial<Record<Kind, string | undefined>> = {
    consumers: raw.custom_id !== undefined ? `custom_id:${String(raw.custom_id)}` : undefined,
    // instance_name only when set: ids of plugins without one stay what they were
    plugins: `${String(raw.name)}|${scope('service')}|${scope('route')}|${scope('consumer')}${raw.instance_name ? `|${String(raw.instance_name)}` : ''}`,
    targets: `${scope('upstream')}|${String(item.value?.target ?? raw.target)}`,
    jwt_secrets: jwtKey(`${scope('consumer')}|${String(raw.key)}`, raw.kid, jwtSeen),
    basicauth_credentials: `${scope('consumer')}|${String(raw.username)}`,
    acls: `${scope('consumer')}|${String(raw.group)}`,
  }
  return { table: `portico:${item.kind}`, key: keys[item.kind] ?? parentKey }
}

/**
 * The natural key of a jwt secret. One consumer may hold several secrets under one `key`
 * (rotation): a secret with a `kid` is told apart by it (its id stays put when the others go);
 * otherwise the first keeps the plain `consumer|key` (the id it had before it had siblings)
 * and the next ones add their rank.
 */
function jwtKey(base: string, kid: unknown, seen: Map<string, number>): string {
  if (typeof kid === 'string') return `${base}|kid:${kid}`
  const n = (seen.get(base) ?? 0) + 1
  seen.set(base, n)
  return n === 1 ? base : `${base}|${n}`
}

function assignId(item: Item, jwtSeen: Map<string, number> = new Map()): void {
  if (isUuid(item.raw.id)) item.id = item.raw.id
  else {
    const { table, key } = naturalKey(item, jwtSeen)
    item.id = entityId(table, key)
  }
}

type Lookup = { byId: Map<string, Item>; byName: Map<string, Item> }

function buildLookup(items: Item[]): Lookup {
  const lookup: Lookup = { byId: new Map(), byName: new Map() }
  for (const item of items) {
    if (!lookup.byId.has(item.id.toLowerCase())) lookup.byId.set(item.id.toLowerCase(), item)
    const name = text(item.raw[NAME_FIELD[item.kind] ?? ''])
    if (name !== undefined && !lookup.byName.has(name)) lookup.byName.set(name, item)
  }
  return lookup
}

/** Finds the entity a foreign key designates: a name or id string, or `{ id }` / `{ name }`. */
function find(lookup: Lookup, kind: Kind, ref: unknown): Item | undefined | 'invalid' {
  if (typeof ref === 'string') return lookup.byId.get(ref.toLowerCase()) ?? lookup.byName.get(ref)
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return 'invalid'
  const entries = Object.entries(ref).filter(([, v]) => v !== null && v !== undefined)
  const [field, value] = entries[0] ?? []
  if (entries.length !== 1 || typeof value !== 'string') return 'invalid'
  if (field === 'id') return lookup.byId.get(value.toLowerCase())
  return field === NAME_FIELD[kind] ? lookup.byName.get(value) : 'invalid'
}

/**
 * Gives every item its id and resolves its foreign keys to ids, reporting references to
 * entities that are not in the document. Parents get their ids before the entities that point
 * at them, because generated child ids include the parent's.
 *
 * @example
 *   link(items, issues) // a route written `service: users` → item.resolved.service = the id of 'users'
 */
export function link(items: Item[], issues: ConfigIssue[]): void {
  const byKind = new Map<Kind, Item[]>()
  for (const item of items) {
    const list = byKind.get(item.kind)
    if (list) list.push(item)
    else byKind.set(item.kind, [item])
  }
  const referenced: Kind[] = ['certificates', 'services', 'routes', 'consumers', 'upstreams']
  for (const kind of referenced) for (const item of byKind.get(kind) ?? []) assignId(item)
  const lookups = new Map(referenced.map((kind) => [kind, buildLookup(byKind.get(kind) ?? [])]))
  const jwtSeen = new Map<string, number>()

  for (const item of items) {
    const spec = SPECS[item.kind]
    for (const [field, target] of Object.entries(spec.refs) as Array<[string, Kind]>) {
      const path = joinPath(item.path, field)
      if (item.parent && impliedRef(item.kind, item.parent.kind) === field) {
        item.resolved[field] = item.parent.id
        continue
      }
      const ref = item.refs[field]
      if (ref === undefined) {
        if (spec.requiredRefs.includes(field)) issues.push({ path, message: 'required field missing' })
        continue
      }
      const found = find(lookups.get(target) as Lookup, target, ref)
      if (found === 'invalid') {
        issues.push({ path, message: `expected the name or id of a ${target.slice(0, -1)}, or { id: … }` })
      } else if (found === undefined) {
        const shown = typeof ref === 'string' ? ref : JSON.stringify(ref)
        issues.push({ path, message: `invalid reference '${shown}': no such entry in '${target}'` })
      } else {
        item.resolved[field] = found.id
      }
    }
    if (!referenced.includes(item.kind)) assignId(item, jwtSeen)
  }
}

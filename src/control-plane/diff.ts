import type { ConfigDocument, Ref } from '../core/entities.js'
import { type Kind, listOf } from './kinds.js'

type Entity = { id: string } & Record<string, unknown>

/** One difference between two documents, named as a person would name the entity. */
export interface DiffEntry {
  kind: Kind
  name: string
  change: 'added' | 'removed' | 'changed'
  /** for changes: field → [before, after] */
  fields?: Record<string, [unknown, unknown]>
}

const ORDER: Kind[] = [
  'services',
  'routes',
  'upstreams',
  'targets',
  'consumers',
  'plugins',
  'keyauth_credentials',
  'jwt_secrets',
  'basicauth_credentials',
  'acls',
  'certificates',
  'snis',
  'ca_certificates',
]
// ids and timestamps differ between any two loads; basic-auth hashes are salted by id
const IGNORED = new Set(['id', 'created_at', 'updated_at', 'password'])

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
const mask = (key: string) => (key.length <= 4 ? '****' : `****${key.slice(-4)}`)

/** Names entities by what identifies them to a user, never by generated ids where avoidable. */
function namer(doc: ConfigDocument): (kind: Kind, e: Entity) => string {
  const byId = new Map<string, string>()
  const ref = (e: Entity, field: string) => byId.get((e[field] as Ref | undefined)?.id ?? '') ?? ''
  const name = (kind: Kind, e: Entity): string => {
    switch (kind) {
      case 'services':
        return str(e.name) ?? `${e.host}:${e.port}${str(e.path) ?? ''}`
      case 'routes': {
        const paths = (e.paths as string[] | undefined)?.join(',') ?? ''
        const hosts = (e.hosts as string[] | undefined)?.join(',')
        return str(e.name) ?? `${ref(e, 'service') || '(no service)'} ${paths}${hosts ? ` @${hosts}` : ''}`
      }
      case 'consumers':
        return str(e.username) ?? `custom_id=${e.custom_id}`
      case 'upstreams':
        return String(e.name)
      case 'targets':
        return `${ref(e, 'upstream')} → ${e.target}`
      case 'plugins': {
        const scope = ['service', 'route', 'consumer']
          .filter((f) => e[f] !== undefined)
          .map((f) => `${f} ${ref(e, f)}`)
        return str(e.instance_name) ?? `${e.name} (${scope.length === 0 ? 'global' : scope.join(', ')})`
      }
      case 'keyauth_credentials':
        return `${ref(e, 'consumer')}: key ${mask(String(e.key))}`
      case 'jwt_secrets':
        return `${ref(e, 'consumer')}: jwt ${e.key}`
      case 'basicauth_credentials':
        return `${ref(e, 'consumer')}: basic-auth ${e.username}`
      case 'acls':
        return `${ref(e, 'consumer')}: group ${e.group}`
      case 'certificates':
        return `certificate ${e.id}`
      case 'snis':
        return `sni ${e.name}`
      case 'ca_certificates':
        return `ca certificate ${String(e.cert_digest ?? e.id).slice(0, 16)}`
    }
  }
  for (const kind of ['services', 'routes', 'consumers', 'upstreams'] as Kind[]) {
    for (const e of listOf(doc, kind)) byId.set(e.id, name(kind, e))
  }
  return name
}

const isRef = (v: unknown): v is Ref =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'id' in v

/** An entity's content as shown and compared: references by name, no ids or timestamps. */
function comparable(
  e: Entity,
  refName: (id: string) => string,
): Map<string, { shown: unknown; key: string }> {
  const out = new Map<string, { shown: unknown; key: string }>()
  for (const [k, v] of Object.entries(e)) {
    if (IGNORED.has(k) || v === undefined || v === null) continue
    const shown = isRef(v) ? refName(v.id) : v
    out.set(k, { shown, key: JSON.stringify(shown) })
  }
  return out
}

/**
 * What applying `next` over `current` would add, remove and change, by kind and by name
 * (`portico config diff`). Entities are matched by their names (or natural keys), so a file
 * without ids compares cleanly with what the Admin API created.
 *
 * @example
 *   diffDocuments(running, fromFile) // → [{ kind: 'services', name: 'users', change: 'changed', fields: { port: [80, 8080] } }]
 */
export function diffDocuments(current: ConfigDocument, next: ConfigDocument): DiffEntry[] {
  const nameA = namer(current)
  const nameB = namer(next)
  const refsA = new Map<string, string>()
  const refsB = new Map<string, string>()
  for (const kind of ['services', 'routes', 'consumers', 'upstreams'] as Kind[]) {
    for (const e of listOf(current, kind)) refsA.set(e.id, nameA(kind, e))
    for (const e of listOf(next, kind)) refsB.set(e.id, nameB(kind, e))
  }
  const out: DiffEntry[] = []
  for (const kind of ORDER) {
    const before = new Map(listOf(current, kind).map((e) => [nameA(kind, e), e]))
    const after = new Map(listOf(next, kind).map((e) => [nameB(kind, e), e]))
    for (const [name, e] of after) {
      const old = before.get(name)
      if (old === undefined) {
        out.push({ kind, name, change: 'added' })
        continue
      }
      const a = comparable(old, (id) => refsA.get(id) ?? id)
      const b = comparable(e, (id) => refsB.get(id) ?? id)
      const fields: Record<string, [unknown, unknown]> = {}
      for (const key of new Set([...a.keys(), ...b.keys()])) {
        const x = a.get(key)
        const y = b.get(key)
        if (x?.key !== y?.key) fields[key] = [x?.shown ?? null, y?.shown ?? null]
      }
      if (Object.keys(fields).length > 0) out.push({ kind, name, change: 'changed', fields })
    }
    for (const name of before.keys()) if (!after.has(name)) out.push({ kind, name, change: 'removed' })
  }
  return out
}

import { stringify } from 'yaml'
import type { ConfigDocument, Ref } from '../core/entities.js'
import { KINDS, type Kind, SPECS } from './collect.js'

type Entry = Record<string, unknown>

/** How an entity is shown (the Admin API's: every field, null when unset, as Kong exports) */
export type Shape = (kind: Kind, entity: Entry) => Entry

/** A place an entity can be written: nested in a container entry, or the top-level list. */
interface Slot {
  entry: Entry
  /** the foreign key the container implies, left out of the nested entity */
  implied: string
}

/** An entity as written in a file: foreign keys as plain ids (Kong's export), nested lists apart. */
function toEntry(kind: Kind, entity: object, implied?: string, shape?: Shape): Entry {
  const entry: Entry = shape === undefined ? { ...entity } : shape(kind, entity as Entry)
  for (const field of Object.keys(SPECS[kind].refs)) {
    const ref = entry[field] as Ref | null | undefined
    if (ref === undefined || ref === null || field === implied) delete entry[field]
    else entry[field] = ref.id
  }
  return entry
}

function append(entry: Entry, list: string, child: Entry): void {
  const children = (entry[list] as Entry[] | undefined) ?? []
  children.push(child)
  entry[list] = children
}

/**
 * Writes each entity of `kind` nested in a container when that keeps the document order: the
 * loader reads nested entities container by container, then the top-level list, so an entity
 * is nested only while its candidate slots go forward; from the first one that cannot, the rest
 * are written at the top level. Parsing the result gives back the same lists in the same order.
 */
function place(
  out: Entry,
  kind: Kind,
  entities: readonly object[],
  slotsOf: (entity: Record<string, unknown>) => Array<number | undefined>,
  slots: Slot[],
  shape?: Shape,
): void {
  let current = -1
  let nesting = true
  for (const entity of entities) {
    const candidates = slotsOf(entity as Record<string, unknown>)
      .filter((s): s is number => s !== undefined && s >= current)
      .sort((a, b) => a - b)
    const slot = nesting ? candidates[0] : undefined
    if (slot === undefined) {
      nesting = false
      append(out, kind, toEntry(kind, entity, undefined, shape))
      continue
    }
    current = slot
    const { entry, implied } = slots[slot] as Slot
    append(entry, kind, toEntry(kind, entity, implied, shape))
  }
}

const refId = (entity: Record<string, unknown>, field: string) => (entity[field] as Ref | undefined)?.id

/**
 * The document in Kong's declarative form, nested as Kong users write it (routes and plugins in
 * their services, credentials in their consumers, targets in their upstreams), with every id and
 * `_transform: false` (passwords are already hashed). The Admin API's `GET /config` body.
 *
 * @example
 *   const body = toDeclarative(runtime.document) // { _format_version: '3.0', services: [...] }
 */
export function toDeclarative(doc: ConfigDocument, shape?: Shape): Entry {
  const out: Entry = { _format_version: '3.0', _transform: false }
  const services = doc.services.map((s) => toEntry('services', s, undefined, shape))
  const serviceAt = new Map(doc.services.map((s, i) => [s.id, i]))
  const serviceSlots = services.map((entry) => ({ entry, implied: 'service' }))
  place(out, 'routes', doc.routes, (r) => [serviceAt.get(refId(r, 'service') ?? '')], serviceSlots, shape)
  if (services.length > 0) out.services = services

  // plugin containers in the order the loader walks them: each service then its routes,
  // top-level routes, consumers
  const pluginSlots: Slot[] = []
  const slotOf = new Map<string, number>()
  const addSlot = (entry: Entry, implied: string) => {
    slotOf.set(entry.id as string, pluginSlots.length)
    pluginSlots.push({ entry, implied })
  }
  for (const service of services) {
    addSlot(service, 'service')
    for (const route of (service.routes as Entry[] | undefined) ?? []) addSlot(route, 'route')
  }
  for (const route of (out.routes as Entry[] | undefined) ?? []) addSlot(route, 'route')
  const consumers = doc.consumers.map((c) => toEntry('consumers', c, undefined, shape))
  for (const consumer of consumers) addSlot(consumer, 'consumer')
  if (consumers.length > 0) out.consumers = consumers
  place(
    out,
    'plugins',
    doc.plugins,
    (p) => ['service', 'route', 'consumer'].map((f) => slotOf.get(refId(p, f) ?? '')),
    pluginSlots,
    shape,
  )

  const consumerSlots = consumers.map((entry) => ({ entry, implied: 'consumer' }))
  const consumerAt = new Map(doc.consumers.map((c, i) => [c.id, i]))
  const upstreams = doc.upstreams.map((u) => toEntry('upstreams', u, undefined, shape))
  if (upstreams.length > 0) out.upstreams = upstreams
  const upstreamAt = new Map(doc.upstreams.map((u, i) => [u.id, i]))
  const upstreamSlots = upstreams.map((entry) => ({ entry, implied: 'upstream' }))
  place(
    out,
    'targets',
    doc.targets,
    (t) => [upstreamAt.get(refId(t, 'upstream') ?? '')],
    upstreamSlots,
    shape,
  )
  for (const kind of ['keyauth_credentials', 'jwt_secrets', 'basicauth_credentials', 'acls'] as const) {
    place(out, kind, doc[kind], (c) => [consumerAt.get(refId(c, 'consumer') ?? '')], consumerSlots, shape)
  }
  const certificates = doc.certificates.map((c) => toEntry('certificates', c, undefined, shape))
  if (certificates.length > 0) out.certificates = certificates
  const certificateAt = new Map(doc.certificates.map((c, i) => [c.id, i]))
  const certificateSlots = certificates.map((entry) => ({ entry, implied: 'certificate' }))
  place(
    out,
    'snis',
    doc.snis,
    (s) => [certificateAt.get(refId(s, 'certificate') ?? '')],
    certificateSlots,
    shape,
  )
  const cas = doc.ca_certificates.map((c) => toEntry('ca_certificates', c, undefined, shape))
  if (cas.length > 0) out.ca_certificates = cas
  // stable key order (the walk order) whatever order the lists were filled in
  const ordered: Entry = { _format_version: out._format_version, _transform: out._transform }
  for (const kind of KINDS) if (out[kind] !== undefined) ordered[kind] = out[kind]
  return ordered
}

/**
 * Serialises a document as a Kong declarative file (YAML or JSON) that `parseDeclarative`
 * reads back into the same document.
 *
 * @example
 *   await writeFile('kong.yaml', exportDeclarative(document, 'yaml'))
 */
export function exportDeclarative(doc: ConfigDocument, format: 'yaml' | 'json', shape?: Shape): string {
  const out = toDeclarative(doc, shape)
  return format === 'json' ? `${JSON.stringify(out, null, 2)}\n` : stringify(out)
}

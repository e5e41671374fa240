import { createHash } from 'node:crypto'

// Kong's namespace for declarative entities: ids generated from names match Kong DB-less (and decK).
const KONG_ENTITIES_NAMESPACE = 'fd02801f-0957-4a15-a55a-c8d9606f30b5'

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/**
 * True for a UUID in its canonical text form (any version, as Kong accepts).
 *
 * @example
 *   isUuid('9748f662-7711-4a90-8186-dc02f10eb0f5') // → true
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value)
}

/**
 * RFC 4122 version 5 UUID: SHA-1 of the namespace bytes and the name.
 *
 * @example
 *   uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')
 *   // → '2ed6657d-e927-568b-95e1-2665a8aea6a2'
 */
export function uuidV5(name: string, namespace: string): string {
  const bytes = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest()
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const namespaces = new Map<string, string>()

/**
 * A deterministic id for an entity of `table` (Kong's plural table name) identified by `key`.
 * With the entity's name as key (username for consumers) this is the id Kong's declarative
 * loader generates, so a Kong DB-less file keeps its ids when it moves to Portico.
 *
 * @example
 *   entityId('services', 'some.service.name') // → 'd9bee1f8-db6e-5a37-9281-fd4aca16dc00'
 */
export function entityId(table: string, key: string): string {
  let namespace = namespaces.get(table)
  if (namespace === undefined) {
    namespace = uuidV5(table, KONG_ENTITIES_NAMESPACE)
    namespaces.set(table, namespace)
  }
  return uuidV5(key, namespace)
}

import { createHash } from 'node:crypto'
import type { ConfigDocument } from '../core/entities.js'

/** JSON with object keys sorted at every level; `undefined` members are left out, as JSON does. */
function canonical(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    return `{${members.join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * A version of the configuration: the sha256 (hex) of the document with its keys in a fixed
 * order, so the same configuration gives the same hash on every node and after every reload,
 * however it was written. List order counts: it is the order of definition.
 *
 * @example
 *   if (configHash(next) !== configHash(current)) publish(next)
 */
export function configHash(doc: ConfigDocument): string {
  return createHash('sha256').update(canonical(doc)).digest('hex')
}

import type { ConfigIssue } from '../core/entities.js'
import type { Item, Kind } from './collect.js'
import { isUuid } from './ids.js'
import { joinPath } from './issues.js'

interface Rule {
  kind: Kind
  /** the field the issue points at */
  field: string
  /** the unique key of a valid item, undefined when the rule does not apply to it */
  key(item: Item, value: Record<string, unknown>): string | undefined
  message(item: Item, value: Record<string, unknown>, first: Item): string
  /** items with the same key that may coexist anyway (default: none may) */
  allowed?(item: Item, first: Item): boolean
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

function field(kind: Kind, name: string): Rule {
  return {
    kind,
    field: name,
    key: (_item, value) => str(value[name]),
    message: (_item, value, first) =>
      `uniqueness violation: '${kind}' entity with ${name} set to '${String(value[name])}' already declared at ${first.path}`,
  }
}

// Kong's unique fields and cache keys for the entities Portico has.
const RULES: Rule[] = [
  field('services', 'name'),
  field('routes', 'name'),
  field('upstreams', 'name'),
  field('consumers', 'username'),
  field('consumers', 'custom_id'),
  field('keyauth_credentials', 'key'),
  {
    // Kong keeps `key` unique; Portico lets one consumer hold several secrets under its key
    // (rotation), but a key that named two consumers would be ambiguous
    ...field('jwt_secrets', 'key'),
    allowed: (item, first) => item.resolved.consumer === first.resolved.consumer,
    message: (_item, value, first) =>
      `uniqueness violation: 'jwt_secrets' entity with key set to '${String(value.key)}' already declared for another consumer at ${first.path} (a key names one consumer; that consumer may hold several secrets under it)`,
  },
  {
    kind: 'jwt_secrets',
    field: 'kid',
    key: (item, value) =>
      typeof value.kid === 'string'
        ? `${item.resolved.consumer}|${String(value.key)}|${value.kid}`
        : undefined,
    message: (_item, value, first) =>
      `uniqueness violation: kid '${String(value.kid)}' is already used under key '${String(value.key)}' at ${first.path}`,
  },
  field('basicauth_credentials', 'username'),
  field('snis', 'name'),
  field('ca_certificates', 'cert_digest'),
  field('plugins', 'instance_name'),
  {
    kind: 'plugins',
    field: 'name',
    // Portico composes instances of one plugin on one scope when their instance_names differ
    // (a global and a per-client rate limit on one route); Kong allows one
    key: (item, value) =>
      `${String(value.name)}|${item.resolved.service}|${item.resolved.route}|${item.resolved.consumer}|${String(value.instance_name ?? '')}`,
    message: (_item, value, first) =>
      `plugin '${String(value.name)}' is already configured for the same service, route and consumer at ${first.path} (give each instance its own instance_name to apply both)`,
  },
  {
    kind: 'targets',
    field: 'target',
    key: (item, value) => `${item.resolved.upstream}|${String(value.target)}`,
    message: (_item, value, first) =>
      `target '${String(value.target)}' is already declared for this upstream at ${first.path}`,
  },
  {
    kind: 'acls',
    field: 'group',
    key: (item, value) => `${item.resolved.consumer}|${String(value.group)}`,
    message: (_item, value, first) =>
      `the consumer is already in group '${String(value.group)}' at ${first.path}`,
  },
]

/**
 * Reports entities that clash with an earlier one of the same kind: same given id, or same
 * value of a field Kong keeps unique (names, usernames, keys, plugin scope, upstream target).
 * Generated ids cannot clash unless one of these does, so only given ids are compared.
 *
 * @example
 *   checkUniqueness(items, issues) // two services named 'a' → issue at services[1].name
 */
export function checkUniqueness(items: Item[], issues: ConfigIssue[]): void {
  const seenIds = new Map<string, Item>()
  for (const item of items) {
    if (!isUuid(item.raw.id)) continue
    const key = `${item.kind}|${item.id.toLowerCase()}`
    const first = seenIds.get(key)
    if (first === undefined) seenIds.set(key, item)
    else {
      issues.push({
        path: joinPath(item.path, 'id'),
        message: `uniqueness violation: '${item.kind}' entity with primary key set to '${item.id}' already declared at ${first.path}`,
      })
    }
  }
  for (const rule of RULES) {
    const seen = new Map<string, Item>()
    for (const item of items) {
      if (item.kind !== rule.kind || item.value === undefined) continue
      const key = rule.key(item, item.value)
      if (key === undefined) continue
      const first = seen.get(key)
      if (first === undefined) seen.set(key, item)
      else if (!rule.allowed?.(item, first))
        issues.push({ path: joinPath(item.path, rule.field), message: rule.message(item, item.value, first) })
    }
  }
}

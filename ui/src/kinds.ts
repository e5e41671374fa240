/** What the entity pages show and edit for each kind (the Admin API's own field names). */

export interface FieldDef {
  name: string
  type: 'text' | 'number' | 'bool' | 'list' | 'enum' | 'ref' | 'secret'
  options?: string[]
  /** for `ref`: the list endpoint of the referenced kind */
  ref?: string
  default?: string | boolean
  /** only when creating (Kong takes `url` on create and stores its parts) */
  createOnly?: boolean
}

export interface KindDef {
  title: string
  /** singular, for buttons and the confirmation */
  one: string
  columns: string[]
  fields: FieldDef[]
  /** sub-resources shown beside an entity (credentials, targets) */
  children?: Array<{ title: string; path: string; kind: string }>
}

export const KINDS: Record<string, KindDef> = {
  services: {
    title: 'Services',
    one: 'service',
    columns: ['name', 'protocol', 'host', 'port', 'path'],
    fields: [
      { name: 'name', type: 'text' },
      { name: 'url', type: 'text', createOnly: true },
      { name: 'protocol', type: 'enum', options: ['http', 'https'] },
      { name: 'host', type: 'text' },
      { name: 'port', type: 'number' },
      { name: 'path', type: 'text' },
      { name: 'retries', type: 'number' },
      { name: 'connect_timeout', type: 'number' },
      { name: 'read_timeout', type: 'number' },
      { name: 'write_timeout', type: 'number' },
      { name: 'tags', type: 'list' },
    ],
  },
  routes: {
    title: 'Routes',
    one: 'route',
    columns: ['name', 'paths', 'methods', 'hosts', 'service'],
    fields: [
      { name: 'name', type: 'text' },
      { name: 'service', type: 'ref', ref: '/services' },
      { name: 'paths', type: 'list' },
      { name: 'methods', type: 'list' },
      { name: 'hosts', type: 'list' },
      { name: 'strip_path', type: 'bool', default: true },
      { name: 'preserve_host', type: 'bool', default: false },
      { name: 'tags', type: 'list' },
    ],
  },
  consumers: {
    title: 'Consumers',
    one: 'consumer',
    columns: ['username', 'custom_id', 'tags'],
    fields: [
      { name: 'username', type: 'text' },
      { name: 'custom_id', type: 'text' },
      { name: 'tags', type: 'list' },
    ],
    children: [
      { title: 'Key-auth keys', path: 'key-auth', kind: 'key-auth' },
      { title: 'JWT secrets', path: 'jwt', kind: 'jwt' },
      { title: 'Basic-auth credentials', path: 'basic-auth', kind: 'basic-auth' },
      { title: 'ACL groups', path: 'acls', kind: 'acls' },
    ],
  },
  upstreams: {
    title: 'Upstreams',
    one: 'upstream',
    columns: ['name', 'algorithm', 'slots'],
    fields: [
      { name: 'name', type: 'text' },
      {
        name: 'algorithm',
        type: 'enum',
        options: ['round-robin', 'consistent-hashing', 'least-connections'],
      },
      { name: 'slots', type: 'number' },
      { name: 'tags', type: 'list' },
    ],
    children: [{ title: 'Targets', path: 'targets', kind: 'targets' }],
  },
  targets: {
    title: 'Targets',
    one: 'target',
    columns: ['target', 'weight'],
    fields: [
      { name: 'target', type: 'text' },
      { name: 'weight', type: 'number' },
    ],
  },
  'key-auth': {
    title: 'Key-auth keys',
    one: 'key',
    columns: ['key', 'tags'],
    fields: [
      { name: 'key', type: 'secret' },
      { name: 'tags', type: 'list' },
    ],
  },
  jwt: {
    title: 'JWT secrets',
    one: 'JWT secret',
    columns: ['key', 'algorithm'],
    fields: [
      { name: 'key', type: 'text' },
      {
        name: 'algorithm',
        type: 'enum',
        options: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384'],
      },
      { name: 'secret', type: 'secret' },
      { name: 'rsa_public_key', type: 'text' },
    ],
  },
  'basic-auth': {
    title: 'Basic-auth credentials',
    one: 'credential',
    columns: ['username'],
    fields: [
      { name: 'username', type: 'text' },
      { name: 'password', type: 'secret' },
    ],
  },
  acls: {
    title: 'ACL groups',
    one: 'group',
    columns: ['group'],
    fields: [{ name: 'group', type: 'text' }],
  },
}

/** a cell of the list: references by name when known, lists joined */
export function show(value: unknown, names: Map<string, string>): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.join(', ')
  if (typeof value === 'object') {
    const id = (value as { id?: string }).id
    return id === undefined ? JSON.stringify(value) : (names.get(id) ?? id)
  }
  return String(value)
}

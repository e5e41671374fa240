import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import type { ConfigDocument } from '../core/entities.js'
import type { PluginDefinition, PluginRegistry } from '../core/plugin.js'
import { parseDeclarative } from './declarative.js'
import { exportDeclarative } from './export.js'
import { isUuid } from './ids.js'
import { routeDefaults, serviceDefaults } from './testing.js'

// Test data: plugin definitions with real schemas, shaped like the Kong plugins they stand for.
function definition(name: string, schema: z.ZodType, noConsumer = false): PluginDefinition {
  return { name, priority: 1, schema, noConsumer, create: () => ({}) }
}
const definitions = [
  definition(
    'rate-limiting',
    z.strictObject({
      minute: z.number().int().positive().default(60),
      policy: z.enum(['local', 'redis']).default('local'),
    }),
  ),
  definition(
    'key-auth',
    z.strictObject({
      key_names: z.array(z.string()).default(['apikey']),
      hide_credentials: z.boolean().default(false),
    }),
    true,
  ),
  definition('jwt', z.strictObject({ key_claim_name: z.string().default('iss') }), true),
  definition(
    'acl',
    z.strictObject({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }),
  ),
  definition(
    'proxy-cache',
    z.strictObject({
      strategy: z.enum(['memory', 'redis']).default('memory'),
      cache_ttl: z.number().default(300),
    }),
  ),
  definition('prometheus', z.strictObject({})),
]
const registry: PluginRegistry = {
  get: (name) => definitions.find((d) => d.name === name),
  names: () => definitions.map((d) => d.name),
}

const KONG_FILE = `
_format_version: "3.0"
_transform: true

services:
  - name: inference-python
    url: http://127.0.0.1:5001/infer
    connect_timeout: 5000
    tags: [ai]
    routes:
      - name: infer-python
        paths: [/infer/python]
        methods: [POST]
    plugins:
      - name: rate-limiting
        config:
          minute: 100
  - name: users
    host: users.upstream
    routes:
      - name: users-api
        paths: ["/api/users", "~/api/users/(?<id>\\\\d+)$"]
        plugins:
          - name: key-auth
            config:
              key_names: [apikey, x-api-key]
  - name: slow
    url: https://slow.internal
    routes:
      - name: slow
        hosts: [slow.example.com]
        paths: [/slow]
        plugins:
          - name: proxy-cache
            config: { cache_ttl: 30 }

routes:
  - name: resource
    service: users
    paths: [/api/resource]
    headers:
      X-Version: [v1]

consumers:
  - username: alice
    custom_id: alice-001
    keyauth_credentials:
      - key: alice-secret-key
    jwt_secrets:
      - key: https://auth.local
        secret: a-very-long-shared-secret
    acls:
      - group: admins
    plugins:
      - name: rate-limiting
        config: { minute: 1000 }
  - username: bob

plugins:
  - name: prometheus
  - name: rate-limiting
    service: users
    consumer: bob
    config: { minute: 5 }
  - name: jwt
    route: resource
  - name: acl
    route: resource
    config: { allow: [admins] }

upstreams:
  - name: users.upstream
    healthchecks:
      active:
        http_path: /health
        healthy: { interval: 5 }
    targets:
      - target: 127.0.0.1:5101
      - target: 127.0.0.1:5102
        weight: 50
`

function load(text: string): ConfigDocument {
  const { document, issues } = parseDeclarative(text, registry)
  assert.deepEqual(issues, [])
  assert.ok(document)
  return document
}

/** The document with ids dropped and references shown as the referenced entity's name. */
function readable(doc: ConfigDocument): Record<string, object[]> {
  const names = new Map<string, string>()
  for (const e of [...doc.services, ...doc.routes, ...doc.upstreams]) names.set(e.id, String(e.name))
  for (const c of doc.consumers) names.set(c.id, String(c.username))
  return Object.fromEntries(
    Object.entries(doc).map(([kind, list]: [string, Array<Record<string, unknown>>]) => [
      kind,
      list.map(({ id: _id, ...entity }) => {
        for (const ref of ['service', 'route', 'consumer', 'upstream']) {
          const target = entity[ref] as { id: string } | undefined
          if (target) entity[ref] = names.get(target.id) ?? `dangling ${target.id}`
        }
        return entity
      }),
    ]),
  )
}

const SERVICE = serviceDefaults()
const ROUTE = routeDefaults()
const PLUGIN = { enabled: true, protocols: ['grpc', 'grpcs', 'http', 'https'] }

test('a Kong DB-less file loads into the flat document, nested entities first, defaults filled', () => {
  const { upstreams, ...doc } = readable(load(KONG_FILE))
  assert.deepEqual(doc, {
    services: [
      {
        ...SERVICE,
        name: 'inference-python',
        host: '127.0.0.1',
        port: 5001,
        path: '/infer',
        connect_timeout: 5000,
        tags: ['ai'],
      },
      { ...SERVICE, name: 'users', host: 'users.upstream' },
      { ...SERVICE, name: 'slow', protocol: 'https', host: 'slow.internal', port: 443 },
    ],
    routes: [
      {
        ...ROUTE,
        name: 'infer-python',
        paths: ['/infer/python'],
        methods: ['POST'],
        service: 'inference-python',
      },
      { ...ROUTE, name: 'users-api', paths: ['/api/users', '~/api/users/(?<id>\\d+)$'], service: 'users' },
      { ...ROUTE, name: 'slow', hosts: ['slow.example.com'], paths: ['/slow'], service: 'slow' },
      {
        ...ROUTE,
        name: 'resource',
        paths: ['/api/resource'],
        headers: { 'x-version': ['v1'] },
        service: 'users',
      },
    ],
    consumers: [{ username: 'alice', custom_id: 'alice-001' }, { username: 'bob' }],
    keyauth_credentials: [{ key: 'alice-secret-key', consumer: 'alice' }],
    jwt_secrets: [
      {
        key: 'https://auth.local',
        algorithm: 'HS256',
        secret: 'a-very-long-shared-secret',
        consumer: 'alice',
      },
    ],
    basicauth_credentials: [],
    acls: [{ group: 'admins', consumer: 'alice' }],
    certificates: [],
    snis: [],
    ca_certificates: [],
    plugins: [
      {
        ...PLUGIN,
        name: 'rate-limiting',
        config: { minute: 100, policy: 'local' },
        service: 'inference-python',
      },
      {
        ...PLUGIN,
        name: 'key-auth',
        config: { key_names: ['apikey', 'x-api-key'], hide_credentials: false },
        route: 'users-api',
      },
      { ...PLUGIN, name: 'proxy-cache', config: { strategy: 'memory', cache_ttl: 30 }, route: 'slow' },
      { ...PLUGIN, name: 'rate-limiting', config: { minute: 1000, policy: 'local' }, consumer: 'alice' },
      { ...PLUGIN, name: 'prometheus', config: {} },
      {
        ...PLUGIN,
        name: 'rate-limiting',
        config: { minute: 5, policy: 'local' },
        service: 'users',
        consumer: 'bob',
      },
      { ...PLUGIN, name: 'jwt', config: { key_claim_name: 'iss' }, route: 'resource' },
      { ...PLUGIN, name: 'acl', config: { allow: ['admins'] }, route: 'resource' },
    ],
    targets: [
      { target: '127.0.0.1:5101', weight: 100, upstream: 'users.upstream' },
      { target: '127.0.0.1:5102', weight: 50, upstream: 'users.upstream' },
    ],
  })
  const [upstream] = upstreams as Array<ReturnType<typeof load>['upstreams'][number]>
  assert.equal(upstream?.name, 'users.upstream')
  assert.equal(upstream?.algorithm, 'round-robin')
  assert.equal(upstream?.healthchecks.active.http_path, '/health')
  assert.deepEqual(upstream?.healthchecks.active.healthy, {
    interval: 5,
    successes: 0,
    http_statuses: [200, 302],
  })
  assert.deepEqual(upstream?.healthchecks.passive.unhealthy.http_statuses, [429, 500, 503])
})

test('ids are valid, unique and the same on every load; named entities get the id Kong would give', () => {
  const first = load(KONG_FILE)
  const second = load(KONG_FILE)
  const ids = (doc: ConfigDocument) =>
    Object.values(doc).flatMap((list: Array<{ id: string }>) => list.map((e) => e.id))
  assert.deepEqual(ids(second), ids(first))
  assert.ok(ids(first).every(isUuid))
  assert.equal(new Set(ids(first)).size, ids(first).length)
  const kong = load('_format_version: "3.0"\nservices: [{ name: some.service.name, host: a }]')
  assert.equal(kong.services[0]?.id, 'd9bee1f8-db6e-5a37-9281-fd4aca16dc00')
})

test('generated ids do not depend on unrelated entities', () => {
  const base = load('_format_version: "3.0"\nservices: [{ name: a, host: a, routes: [{ paths: [/a] }] }]')
  const more = load(
    '_format_version: "3.0"\nservices: [{ name: z, host: z }, { name: a, host: a, routes: [{ paths: [/a] }] }]',
  )
  assert.equal(more.routes[0]?.id, base.routes[0]?.id)
})

test('rotation: one consumer holds several jwt secrets under one key, each with its own stable id', () => {
  const secrets = (list: string) => `_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets: [${list}]
jwt_secrets: [{ key: alice-iss, secret: top-level, consumer: alice }]`
  const OLD = '{ key: alice-iss, secret: old-secret }'
  const NEW = '{ key: alice-iss, secret: new-secret }'
  const KID = '{ key: alice-iss, kid: k3, secret: kid-secret }'
  const both = load(secrets(`${OLD}, ${NEW}, ${KID}`))
  assert.deepEqual(
    both.jwt_secrets.map((s) => [s.key, s.secret, s.kid]),
    [
      ['alice-iss', 'old-secret', undefined],
      ['alice-iss', 'new-secret', undefined],
      ['alice-iss', 'kid-secret', 'k3'],
      ['alice-iss', 'top-level', undefined],
    ],
  )
  const ids = both.jwt_secrets.map((s) => s.id)
  assert.equal(new Set(ids).size, 4, 'every secret has its own id')
  assert.deepEqual(
    load(secrets(`${OLD}, ${NEW}, ${KID}`)).jwt_secrets.map((s) => s.id),
    ids,
  )
  // the first secret keeps the id it had alone; a secret with a kid keeps its id when the others go
  assert.equal(load(secrets(OLD)).jwt_secrets[0]?.id, ids[0])
  assert.equal(load(secrets(KID)).jwt_secrets[0]?.id, ids[2])
})

test('given ids are kept, and references may use them', () => {
  const id = '9748f662-7711-4a90-8186-dc02f10eb0f5'
  const doc = load(`_format_version: "3.0"
services: [{ id: ${id}, host: a }]
routes: [{ service: ${id}, paths: [/], id: 0b1ac8f5-7f12-4d4c-a4a6-8a8e7a1f6a71 }]
plugins: [{ name: prometheus, service: { id: ${id} } }]`)
  assert.equal(doc.services[0]?.id, id)
  assert.equal(doc.routes[0]?.id, '0b1ac8f5-7f12-4d4c-a4a6-8a8e7a1f6a71')
  assert.deepEqual(doc.routes[0]?.service, { id })
  assert.deepEqual(doc.plugins[0]?.service, { id })
})

test('JSON and YAML give the same document; the format is detected or given', () => {
  const fromYaml = load(KONG_FILE)
  const json = JSON.stringify(parseYaml(KONG_FILE))
  const detected = parseDeclarative(json, registry)
  assert.deepEqual(detected.issues, [])
  assert.deepEqual(detected.document, fromYaml)
  assert.deepEqual(parseDeclarative(`\n  ${json}`, registry, { format: 'json' }).document, fromYaml)
  // YAML is a superset of JSON: a JSON file read as YAML is the same configuration
  assert.deepEqual(parseDeclarative(json, registry, { format: 'yaml' }).document, fromYaml)
  // a YAML flow mapping also starts with `{`
  const flow = parseDeclarative('{ _format_version: "3.0", services: [{ name: a, host: a }] }', registry)
  assert.deepEqual(flow.issues, [])
  assert.equal(flow.document?.services[0]?.name, 'a')
})

test('an exported document parses back to the same document, in YAML and in JSON', () => {
  const original = load(KONG_FILE)
  for (const format of ['yaml', 'json'] as const) {
    const { document, issues } = parseDeclarative(exportDeclarative(original, format), registry)
    assert.deepEqual(issues, [], format)
    assert.deepEqual(document, original, format)
  }
})

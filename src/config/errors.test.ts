import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import type { PluginDefinition, PluginRegistry } from '../core/plugin.js'
import { parseDeclarative } from './declarative.js'
import { validateDocument } from './validate.js'

// Test data: two plugin definitions with real schemas (one an auth plugin, which Kong forbids on consumers).
const definitions: PluginDefinition[] = [
  {
    name: 'rate-limiting',
    priority: 910,
    schema: z.strictObject({ minute: z.number().int().positive().default(60) }),
    create: () => ({}),
  },
  { name: 'key-auth', priority: 1250, noConsumer: true, schema: z.strictObject({}), create: () => ({}) },
]
const registry: PluginRegistry = {
  get: (name) => definitions.find((d) => d.name === name),
  names: () => definitions.map((d) => d.name),
}

const ID = '9748f662-7711-4a90-8186-dc02f10eb0f5'
const svc = (extra: object = {}) => ({ name: 's', host: 'h', ...extra })
const route = (extra: object = {}) => ({ paths: ['/'], ...extra })

/** [what, document entities, the path of the issue, a pattern of its message] */
const CASES: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['unknown top-level key', { foo: [] }, 'foo', /unknown field/],
  ['Kong entity Portico lacks', { vaults: [] }, 'vaults', /not supported by Portico/],
  ['entity list not a list', { services: { name: 's' } }, 'services', /expected a list/],
  ['entity not an object', { services: ['s'] }, 'services[0]', /expected an object/],
  ['unknown entity field', { services: [svc({ ws_id: 'x' })] }, 'services[0].ws_id', /unknown field/],
  ['service name charset', { services: [svc({ name: 'a b' })] }, 'services[0].name', /only accepted ascii/],
  ['service url', { services: [{ url: 'ftp://h' }] }, 'services[0].url', /unsupported protocol 'ftp'/],
  ['service port', { services: [svc({ port: 65536 })] }, 'services[0].port', /between 0 and 65535/],
  [
    'service timeout',
    { services: [svc({ read_timeout: 0 })] },
    'services[0].read_timeout',
    /between 1 and 2147483646/,
  ],
  ['id not a uuid', { services: [svc({ id: '42' })] }, 'services[0].id', /UUID/],
  [
    'route path',
    { services: [svc({ routes: [route(), route({ paths: ['/ok', 'api'] })] })] },
    'services[0].routes[1].paths[1]',
    /should start with/,
  ],
  ['route regex', { routes: [route({ paths: ['~/(?<id'] })] }, 'routes[0].paths[0]', /invalid regex/],
  ['route method', { routes: [route({ methods: ['get'] })] }, 'routes[0].methods[0]', /upper-case/],
  [
    'route header name',
    { routes: [route({ headers: { 'bad name': ['x'] } })] },
    'routes[0].headers["bad name"]',
    /invalid key: bad header name/,
  ],
  ['route host', { routes: [route({ hosts: ['a.*.b'] })] }, 'routes[0].hosts[0]', /wildcard/],
  [
    'route matches nothing',
    { services: [svc({ routes: [{ name: 'r' }] })] },
    'services[0].routes[0]',
    /must set one of 'methods', 'hosts', 'headers', 'paths'/,
  ],
  [
    'nested route names its service',
    { services: [svc({ routes: [route({ service: 's' })] })] },
    'services[0].routes[0].service',
    /value must be null/,
  ],
  [
    'dangling route service',
    { routes: [route({ service: 'nope' })] },
    'routes[0].service',
    /invalid reference 'nope'/,
  ],
  [
    'bad reference form',
    { routes: [route({ service: { host: 'h' } })] },
    'routes[0].service',
    /name or id of a service/,
  ],
  [
    'unknown plugin',
    { services: [svc({ plugins: [{ name: 'nope' }] })] },
    'services[0].plugins[0].name',
    /unknown plugin 'nope'/,
  ],
  [
    'plugin config value',
    { routes: [route({ plugins: [{ name: 'rate-limiting', config: { minute: 0 } }] })] },
    'routes[0].plugins[0].config.minute',
    />= 1|> 0/,
  ],
  [
    'plugin config field',
    { plugins: [{ name: 'rate-limiting', config: { minutes: 5 } }] },
    'plugins[0].config.minutes',
    /unknown field/,
  ],
  [
    'plugin config type',
    { plugins: [{ name: 'rate-limiting', config: 5 }] },
    'plugins[0].config',
    /expected a record/,
  ],
  [
    'auth plugin nested in a consumer',
    { consumers: [{ username: 'a', plugins: [{ name: 'key-auth' }] }] },
    'consumers[0].plugins[0]',
    /cannot be applied to a consumer/,
  ],
  [
    'auth plugin scoped to a consumer',
    { consumers: [{ username: 'a' }], plugins: [{ name: 'key-auth', consumer: 'a' }] },
    'plugins[0].consumer',
    /cannot be applied to a consumer/,
  ],
  [
    'dangling plugin route',
    { plugins: [{ name: 'rate-limiting', route: 'r' }] },
    'plugins[0].route',
    /no such entry in 'routes'/,
  ],
  [
    'dangling plugin consumer',
    { plugins: [{ name: 'rate-limiting', consumer: 'c' }] },
    'plugins[0].consumer',
    /no such entry in 'consumers'/,
  ],
  [
    'plugin twice on one scope',
    {
      services: [svc({ plugins: [{ name: 'rate-limiting' }] })],
      plugins: [{ name: 'rate-limiting', service: 's' }],
    },
    'plugins[0].name',
    /already configured .* at services\[0\]\.plugins\[0\]/,
  ],
  [
    'plugin twice on one scope with the same instance_name',
    {
      routes: [
        route({
          name: 'r',
          plugins: [
            { name: 'rate-limiting', instance_name: 'a' },
            { name: 'rate-limiting', instance_name: 'a' },
          ],
        }),
      ],
    },
    'routes[0].plugins[1].instance_name',
    /instance_name set to 'a' already declared/,
  ],
  [
    'duplicate service name',
    { services: [svc(), svc()] },
    'services[1].name',
    /name set to 's' already declared at services\[0\]/,
  ],
  [
    'duplicate route name',
    { services: [svc({ routes: [route({ name: 'r' })] })], routes: [route({ name: 'r' })] },
    'routes[0].name',
    /already declared at services\[0\]\.routes\[0\]/,
  ],
  [
    'duplicate id',
    { services: [svc({ id: ID }), svc({ name: 't', id: ID.toUpperCase() })] },
    'services[1].id',
    /primary key/,
  ],
  [
    'duplicate username',
    { consumers: [{ username: 'a' }, { username: 'a' }] },
    'consumers[1].username',
    /already declared/,
  ],
  [
    'duplicate custom_id',
    { consumers: [{ custom_id: 'c' }, { username: 'b', custom_id: 'c' }] },
    'consumers[1].custom_id',
    /already declared/,
  ],
  [
    'consumer without identity',
    { consumers: [{ tags: ['x'] }] },
    'consumers[0]',
    /at least one of these fields/,
  ],
  [
    'duplicate key-auth key',
    {
      consumers: [
        { username: 'a', keyauth_credentials: [{ key: 'k' }] },
        { username: 'b', keyauth_credentials: [{ key: 'k' }] },
      ],
    },
    'consumers[1].keyauth_credentials[0].key',
    /key set to 'k'/,
  ],
  [
    'key-auth without key',
    { consumers: [{ username: 'a', keyauth_credentials: [{}] }] },
    'consumers[0].keyauth_credentials[0].key',
    /required field missing/,
  ],
  [
    'credential without consumer',
    { keyauth_credentials: [{ key: 'k' }] },
    'keyauth_credentials[0].consumer',
    /required field missing/,
  ],
  [
    'credential with unknown consumer',
    { acls: [{ group: 'g', consumer: 'ghost' }] },
    'acls[0].consumer',
    /invalid reference 'ghost'/,
  ],
  [
    'same group twice',
    { consumers: [{ username: 'a', acls: [{ group: 'g' }] }], acls: [{ group: 'g', consumer: 'a' }] },
    'acls[0].group',
    /already in group 'g'/,
  ],
  [
    'one jwt key on two consumers',
    {
      consumers: [
        { username: 'a', jwt_secrets: [{ key: 'iss', secret: 's1' }] },
        { username: 'b', jwt_secrets: [{ key: 'iss', secret: 's2' }] },
      ],
    },
    'consumers[1].jwt_secrets[0].key',
    /key set to 'iss' already declared for another consumer at consumers\[0\]\.jwt_secrets\[0\]/,
  ],
  [
    'one kid twice under a jwt key',
    {
      consumers: [
        {
          username: 'a',
          jwt_secrets: [
            { key: 'iss', kid: 'k1', secret: 's1' },
            { key: 'iss', kid: 'k1', secret: 's2' },
          ],
        },
      ],
    },
    'consumers[0].jwt_secrets[1].kid',
    /kid 'k1' is already used under key 'iss' at consumers\[0\]\.jwt_secrets\[0\]/,
  ],
  [
    'jwt without its key',
    { consumers: [{ username: 'a', jwt_secrets: [{ key: 'iss', algorithm: 'RS256' }] }] },
    'consumers[0].jwt_secrets[0].rsa_public_key',
    /required field missing/,
  ],
  ['upstream name', { upstreams: [{ name: '10.0.0.1' }] }, 'upstreams[0].name', /no ip addresses/],
  [
    'health check field',
    { upstreams: [{ name: 'u', healthchecks: { active: { healthy: { intervals: 1 } } } }] },
    'upstreams[0].healthchecks.active.healthy.intervals',
    /unknown field/,
  ],
  [
    'target',
    { upstreams: [{ name: 'u', targets: [{ target: 'bad host' }] }] },
    'upstreams[0].targets[0].target',
    /Invalid target/,
  ],
  [
    'duplicate target',
    { upstreams: [{ name: 'u', targets: [{ target: '10.0.0.1' }, { target: '10.0.0.1:8000' }] }] },
    'upstreams[0].targets[1].target',
    /'10\.0\.0\.1:8000' is already declared/,
  ],
  [
    'target with unknown upstream',
    { targets: [{ target: 'a', upstream: 'nope' }] },
    'targets[0].upstream',
    /no such entry in 'upstreams'/,
  ],
  [
    'plain password with _transform false',
    {
      _transform: false,
      consumers: [{ username: 'a', basicauth_credentials: [{ username: 'a', password: 'pw' }] }],
    },
    'consumers[0].basicauth_credentials[0].password',
    /already be hashed/,
  ],
]

test('every kind of error is reported at the path where it is written', async (t) => {
  for (const [what, entities, path, message] of CASES) {
    await t.test(what, () => {
      const { document, issues } = validateDocument({ _format_version: '3.0', ...entities }, registry)
      assert.equal(document, null)
      const found = issues.find((i) => i.path === path)
      assert.ok(found, `no issue at ${path}, got ${JSON.stringify(issues)}`)
      assert.match(found.message, message)
    })
  }
})

test('_format_version is required, must be a string, and 3.0, 2.1 or 1.1', () => {
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /required field missing/],
    [3, /write "3.0", in quotes/],
    ['1.0', /expected one of: 1.1, 2.1, 3.0/],
  ]
  for (const [version, message] of cases) {
    const { issues } = validateDocument({ _format_version: version, services: [] }, registry)
    assert.equal(issues.length, 1)
    assert.equal(issues[0]?.path, '_format_version')
    assert.match(issues[0]?.message ?? '', message)
  }
  assert.match(validateDocument([], registry).issues[0]?.message ?? '', /expected an object/)
})

test('all issues are collected, not only the first one', () => {
  const { issues } = validateDocument(
    {
      _format_version: '3.0',
      services: [svc({ port: -1, routes: [route({ paths: ['x'] })] }), svc({ name: 't', retries: -1 })],
      consumers: [{}],
      plugins: [{ name: 'nope' }],
    },
    registry,
  )
  assert.deepEqual(issues.map((i) => i.path).sort(), [
    'consumers[0]',
    'plugins[0].name',
    'services[0].port',
    'services[0].routes[0].paths[0]',
    'services[1].retries',
  ])
})

test('syntax errors come back as issues with their position', () => {
  const yaml = parseDeclarative('_format_version: "3.0"\nservices:\n  - name: a\n   host: b\n', registry)
  assert.equal(yaml.document, null)
  assert.match(yaml.issues[0]?.message ?? '', /^invalid YAML at line \d+, column \d+/)
  const duplicate = parseDeclarative('_format_version: "3.0"\n_format_version: "3.0"\n', registry)
  assert.match(duplicate.issues[0]?.message ?? '', /invalid YAML .*unique/i)
  const json = parseDeclarative('{"_format_version": "3.0", "services": [}', registry)
  assert.match(json.issues[0]?.message ?? '', /^invalid JSON: /)
  assert.match(parseDeclarative('# nothing\n', registry).issues[0]?.message ?? '', /empty/)
})

test('two instances of one plugin on one scope load when their instance_names differ, with distinct ids', () => {
  const { document, issues } = validateDocument(
    {
      _format_version: '3.0',
      routes: [
        route({
          name: 'r',
          plugins: [
            { name: 'rate-limiting', instance_name: 'global' },
            { name: 'rate-limiting', instance_name: 'per-client' },
          ],
        }),
      ],
    },
    registry,
  )
  assert.deepEqual(issues, [])
  const ids = document!.plugins.map((p) => p.id)
  assert.equal(ids.length, 2)
  assert.notEqual(ids[0], ids[1])
})

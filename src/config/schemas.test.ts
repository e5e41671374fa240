import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import type { z } from 'zod'
import { errorMap, toConfigIssues } from './issues.js'
import {
  consumerSchema,
  jwtSecretSchema,
  pluginSchema,
  routeSchema,
  serviceSchema,
  targetSchema,
  upstreamSchema,
} from './schemas.js'
import { routeDefaults, serviceDefaults } from './testing.js'

/** `path: message` lines for an invalid input, as the loader reports them. */
function problems(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input, { error: errorMap })
  assert.equal(result.success, false, `expected ${JSON.stringify(input)} to be rejected`)
  return toConfigIssues('x', result.error?.issues ?? []).map((i) => `${i.path}: ${i.message}`)
}

test('a service gets Kong defaults', () => {
  assert.deepEqual(serviceSchema.parse({ host: 'users.internal' }), {
    ...serviceDefaults(),
    host: 'users.internal',
  })
})

test('the service url shorthand expands, and may not be mixed with the fields it sets', () => {
  const parsed = serviceSchema.parse({ name: 'users', url: 'https://users.internal/v1', retries: 2 })
  assert.deepEqual(
    { ...parsed },
    {
      name: 'users',
      protocol: 'https',
      host: 'users.internal',
      port: 443,
      path: '/v1',
      retries: 2,
      connect_timeout: 60000,
      write_timeout: 60000,
      read_timeout: 60000,
      enabled: true,
    },
  )
  assert.deepEqual(problems(serviceSchema, { url: 'http://a', host: 'b' }), [
    'x.url: url cannot be combined with host',
  ])
  assert.ok(
    problems(serviceSchema, { url: 'gopher://a' }).includes(
      "x.url: unsupported protocol 'gopher': expected one of http, https, ws, wss",
    ),
  )
})

test('a Kong export row (nulls, Kong-only fields at their defaults) is accepted; nulls mean absent', () => {
  const row = {
    id: '5ab9c2b4-4c44-4d1c-8ce4-0b6e5fd3c6b9',
    name: 'users',
    protocol: 'http',
    host: 'users.internal',
    port: 80,
    path: null,
    retries: 5,
    connect_timeout: 60000,
    write_timeout: 60000,
    read_timeout: 60000,
    enabled: true,
    tags: null,
    tls_verify: null,
    tls_verify_depth: null,
    client_certificate: null,
    ca_certificates: null,
    created_at: 1700000000,
    updated_at: 1700000000,
  }
  const parsed = serviceSchema.parse(row)
  assert.equal('path' in parsed, false)
  assert.equal('client_certificate' in parsed, false)
  assert.equal(parsed.created_at, 1700000000)
})

test('service rules: ports, timeouts, hosts, tls_verify, Kong-only features, strictness', () => {
  const base = { host: 'h' }
  const cases: Array<[object, string]> = [
    [{ port: 65536 }, 'x.port: value should be between 0 and 65535'],
    [{ read_timeout: 0 }, 'x.read_timeout: value should be between 1 and 2147483646'],
    [{ connect_timeout: 2 ** 31 - 1 }, 'x.connect_timeout: value should be between 1 and 2147483646'],
    [{ host: 'h:80' }, 'x.host: must not have a port'],
    [{ retries: 1.5 }, 'x.retries: expected an integer'],
    [
      { tls_verify: true },
      "x.tls_verify: value must be null: tls_verify only applies when protocol is 'https' or 'wss'",
    ],
    [
      { tls_verify_depth: 2 },
      "x.tls_verify_depth: value must be null: tls_verify_depth only applies when protocol is 'https' or 'wss'",
    ],
    [{ client_certificate: { id: 'c' } }, 'x.client_certificate: unknown field'],
    [{ ws_id: 'default' }, 'x.ws_id: unknown field'],
    [
      { name: 'has space' },
      'x.name: invalid value: the only accepted ascii characters are alphanumerics or ., -, _, and ~',
    ],
    [{ protocol: 'grpc' }, 'x.protocol: expected one of: http, https, ws, wss'],
  ]
  for (const [patch, expected] of cases)
    assert.deepEqual(problems(serviceSchema, { ...base, ...patch }), [expected])
  assert.equal(serviceSchema.parse({ ...base, name: 'ünïcode-ok' }).name, 'ünïcode-ok')
})

test('a route gets Kong defaults and lower-case header names', () => {
  assert.deepEqual(routeSchema.parse({ paths: ['/a'], headers: { 'X-Version': ['v1'] } }), {
    ...routeDefaults(),
    paths: ['/a'],
    headers: { 'x-version': ['v1'] },
  })
})

test('route rules per protocol family', () => {
  const cases: Array<[object, string]> = [
    [{}, "x: must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"],
    [
      { protocols: ['http'], paths: [] },
      "x: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
    ],
    [
      { protocols: ['http', 'tcp'], paths: ['/'] },
      'x.protocols: protocols from different families cannot be mixed: http, tcp',
    ],
    [
      { protocols: ['tcp'], destinations: [{ port: 1 }], paths: ['/'] },
      "x.paths: cannot set 'paths' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'",
    ],
    [
      { protocols: ['tcp'] },
      "x: must set one of 'sources', 'destinations' when 'protocols' is 'tcp', 'tls' or 'udp'",
    ],
    [
      { protocols: ['grpc'], methods: ['POST'], paths: ['/'] },
      "x.methods: cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'",
    ],
    [
      { protocols: ['http'], hosts: ['a'], snis: ['a'] },
      "x.snis: 'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'wss'",
    ],
    [
      { paths: ['/'], sources: [{ ip: '10.0.0.1' }] },
      "x.sources: cannot set 'sources' when 'protocols' is 'http' or 'https'",
    ],
    [
      { paths: ['/'], headers: { host: ['a'] } },
      "x.headers.host: cannot contain 'host' header, which must be specified in the 'hosts' attribute",
    ],
    [{ paths: ['/'], headers: { 'x-a': [] } }, 'x.headers.x-a: expected at least one value'],
    [
      { paths: ['/'], https_redirect_status_code: 303 },
      'x.https_redirect_status_code: expected one of: 426, 301, 302, 307, 308',
    ],
    [
      { protocols: ['tls'], destinations: [{}] },
      'x.destinations[0]: at least one of these fields must be set: ip, port',
    ],
  ]
  for (const [input, expected] of cases) assert.deepEqual(problems(routeSchema, input), [expected], expected)
  assert.deepEqual(routeSchema.parse({ protocols: ['https'], snis: ['api.example.com'] }).snis, [
    'api.example.com',
  ])
})

test('an upstream gets every health check default of Kong', () => {
  const parsed = upstreamSchema.parse({ name: 'users.v1' })
  assert.deepEqual(parsed, {
    name: 'users.v1',
    algorithm: 'round-robin',
    hash_on: 'none',
    hash_fallback: 'none',
    hash_on_cookie_path: '/',
    slots: 10000,
    healthchecks: {
      active: {
        type: 'http',
        http_path: '/',
        timeout: 1,
        concurrency: 10,
        https_verify_certificate: true,
        healthy: { interval: 0, successes: 0, http_statuses: [200, 302] },
        unhealthy: {
          interval: 0,
          http_failures: 0,
          tcp_failures: 0,
          timeouts: 0,
          http_statuses: [429, 404, 500, 501, 502, 503, 504, 505],
        },
      },
      passive: {
        type: 'http',
        healthy: {
          successes: 0,
          http_statuses: [
            200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
          ],
        },
        unhealthy: { http_failures: 0, tcp_failures: 0, timeouts: 0, http_statuses: [429, 500, 503] },
      },
      threshold: 0,
    },
  })
})

test('partial health checks keep the other defaults; defaults are not shared between parses', () => {
  const a = upstreamSchema.parse({ name: 'a', healthchecks: { active: { healthy: { interval: 5 } } } })
  assert.equal(a.healthchecks.active.healthy.interval, 5)
  assert.deepEqual(a.healthchecks.active.healthy.http_statuses, [200, 302])
  a.healthchecks.active.healthy.http_statuses.push(999)
  assert.deepEqual(upstreamSchema.parse({ name: 'b' }).healthchecks.active.healthy.http_statuses, [200, 302])
})

test('upstream rules: name, hashing inputs, strict health checks', () => {
  const cases: Array<[object, string]> = [
    [{ name: '10.0.0.1' }, 'x.name: Invalid name; no ip addresses allowed'],
    [{ name: 'a:80' }, 'x.name: Invalid name; no port allowed'],
    [{ name: 'u', hash_on: 'header' }, "x.hash_on_header: required field missing: hash_on is 'header'"],
    [{ name: 'u', hash_fallback: 'ip' }, "x.hash_fallback: must be 'none' when hash_on is 'none'"],
    [{ name: 'u', hash_on: 'ip', hash_fallback: 'ip' }, 'x.hash_fallback: must differ from hash_on'],
    [
      {
        name: 'u',
        hash_on: 'header',
        hash_on_header: 'a',
        hash_fallback: 'header',
        hash_fallback_header: 'a',
      },
      'x.hash_fallback_header: must differ from hash_on_header',
    ],
    [
      { name: 'u', algorithm: 'least-connections', hash_on: 'ip' },
      "x.hash_on: must be 'none' when algorithm is 'least-connections'",
    ],
    [{ name: 'u', slots: 5 }, 'x.slots: value should be between 10 and 65536'],
    [{ name: 'u', healthchecks: { active: { foo: 1 } } }, 'x.healthchecks.active.foo: unknown field'],
    [
      { name: 'u', healthchecks: { passive: { unhealthy: { http_statuses: [99] } } } },
      'x.healthchecks.passive.unhealthy.http_statuses[0]: value should be between 100 and 999',
    ],
    [{ name: 'u', use_srv_name: true }, 'x.use_srv_name: use_srv_name is not supported by Portico'],
  ]
  for (const [input, expected] of cases)
    assert.deepEqual(problems(upstreamSchema, input), [expected], expected)
  assert.equal('use_srv_name' in upstreamSchema.parse({ name: 'u', use_srv_name: false }), false)
})

test('targets default to port 8000 and weight 100, stored as host:port', () => {
  assert.deepEqual(targetSchema.parse({ target: '10.0.0.1' }), { target: '10.0.0.1:8000', weight: 100 })
  assert.deepEqual(targetSchema.parse({ target: '::1', weight: 0 }), { target: '[::1]:8000', weight: 0 })
  assert.deepEqual(targetSchema.parse({ target: 'users-1.internal:5101' }).target, 'users-1.internal:5101')
  assert.deepEqual(problems(targetSchema, { target: 'a:70000' }), [
    'x.target: Invalid target; not a valid hostname or ip address',
  ])
  assert.deepEqual(problems(targetSchema, { target: 'a', weight: 65536 }), [
    'x.weight: value should be between 0 and 65535',
  ])
})

test('plugins default to enabled on grpc, grpcs, http and https with an empty config', () => {
  assert.deepEqual(pluginSchema.parse({ name: 'cors' }), {
    name: 'cors',
    config: {},
    enabled: true,
    protocols: ['grpc', 'grpcs', 'http', 'https'],
  })
  assert.deepEqual(problems(pluginSchema, { name: 'cors', ordering: { before: {} } }), [
    'x.ordering: ordering (a Kong Enterprise feature) is not supported by Portico',
  ])
})

test('consumers need a username or a custom_id', () => {
  assert.deepEqual(problems(consumerSchema, { tags: ['a'] }), [
    "x: at least one of these fields must be non-empty: 'custom_id', 'username'",
  ])
  assert.deepEqual(consumerSchema.parse({ custom_id: 'c-1', updated_at: 1 }), { custom_id: 'c-1' })
})

test('jwt credentials: HS needs a secret, asymmetric algorithms a matching public key or a JWKS URL', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  })
  assert.equal(jwtSecretSchema.parse({ key: 'iss', secret: 's' }).algorithm, 'HS256')
  assert.equal(
    jwtSecretSchema.parse({ key: 'iss', algorithm: 'RS256', rsa_public_key: rsa }).algorithm,
    'RS256',
  )
  assert.equal(
    jwtSecretSchema.parse({ key: 'iss', algorithm: 'ES256', rsa_public_key: ec }).algorithm,
    'ES256',
  )
  assert.equal(
    jwtSecretSchema.parse({ key: 'iss', algorithm: 'RS256', jwks_uri: 'https://idp/jwks' }).algorithm,
    'RS256',
  )
  const cases: Array<[object, string]> = [
    [{ key: 'iss' }, 'x.secret: required field missing: HS256 needs a secret'],
    [{ key: 'iss', algorithm: 'RS256' }, "x: failed conditional validation given value of field 'algorithm'"],
    [
      { key: 'iss', algorithm: 'RS256', rsa_public_key: 'not a key' },
      "x: failed conditional validation given value of field 'algorithm'",
    ],
    [
      { key: 'iss', algorithm: 'RS256', rsa_public_key: ec },
      "x: failed conditional validation given value of field 'algorithm'",
    ],
    [
      { key: 'iss', algorithm: 'ES512', secret: 's' },
      'x.algorithm: expected one of: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, PS256, PS384, PS512, EdDSA',
    ],
    [{ key: 'iss', algorithm: 'RS256', jwks_uri: 'file:///etc/keys' }, 'x.jwks_uri: expected an http(s) URL'],
  ]
  // the rsa_public_key cases have two issues: the field's and the entity's (checked first)
  for (const [input, expected] of cases)
    assert.deepEqual(problems(jwtSecretSchema, input).slice(-1), [expected], expected)
  assert.deepEqual(
    problems(jwtSecretSchema, { key: 'iss', algorithm: 'RS256', rsa_public_key: 'x' })[0],
    'x.rsa_public_key: invalid key',
  )
})

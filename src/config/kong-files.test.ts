import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import type { ConfigDocument } from '../core/entities.js'
import { parseDeclarative } from './declarative.js'
import { verifyPassword } from './password.js'
import { rateLimitingRegistry } from './testing.js'

// Files as Kong itself writes them (its export) or as migrations from older Kong leave them.

// Test data: one plugin definition with a real schema.
const registry = rateLimitingRegistry(
  z.strictObject({
    minute: z.number().default(60),
    policy: z.enum(['local', 'redis']).default('local'),
  }),
)

function load(text: string): ConfigDocument {
  const { document, issues } = parseDeclarative(text, registry)
  assert.deepEqual(issues, [])
  assert.ok(document)
  return document
}

test("Kong's own export loads: flat lists, foreign keys as id strings, nulls, Kong-only defaults", () => {
  const service = '0855b320-0dd2-547d-891d-601e9b38647f'
  const route = '481a9539-f49c-51b6-b2e2-fe99ee68866c'
  const consumer = '4b1b701d-de2b-5588-9aa2-3b97061d9f52'
  const upstream = 'a8e7b7d3-5c8a-4a0e-9f22-0c9d2a1d9b11'
  const exported = {
    _format_version: '3.0',
    _transform: false,
    services: [
      {
        id: service,
        name: 'users',
        host: 'users.upstream',
        port: 80,
        protocol: 'http',
        path: null,
        retries: 5,
        connect_timeout: 60000,
        read_timeout: 60000,
        write_timeout: 60000,
        enabled: true,
        tags: null,
        client_certificate: null,
        tls_verify: null,
        tls_verify_depth: null,
        ca_certificates: null,
        created_at: 1700000000,
        updated_at: 1700000000,
      },
    ],
    routes: [
      {
        id: route,
        name: 'users-api',
        service,
        protocols: ['http', 'https'],
        methods: null,
        hosts: null,
        paths: ['/api/users'],
        headers: null,
        snis: null,
        sources: null,
        destinations: null,
        regex_priority: 0,
        strip_path: true,
        preserve_host: false,
        path_handling: 'v0',
        https_redirect_status_code: 426,
        request_buffering: true,
        response_buffering: true,
        tags: null,
        created_at: 1700000000,
        updated_at: 1700000000,
      },
    ],
    consumers: [
      {
        id: consumer,
        username: 'alice',
        custom_id: null,
        tags: null,
        created_at: 1700000000,
        updated_at: 1700000000,
      },
    ],
    keyauth_credentials: [
      {
        id: '7d2b0ac4-5a8e-4bfb-9b1e-3c54e1d6a0c2',
        consumer,
        key: 'k1',
        ttl: null,
        tags: null,
        created_at: 1700000000,
      },
    ],
    plugins: [
      {
        id: 'c1b0b7a9-3a4f-4f3b-8d8e-6c5f1e7a9b20',
        name: 'rate-limiting',
        route,
        service: null,
        consumer: null,
        config: { minute: 5, policy: 'local' },
        protocols: ['grpc', 'grpcs', 'http', 'https'],
        enabled: true,
        instance_name: null,
        tags: null,
        created_at: 1700000000,
        updated_at: 1700000000,
      },
    ],
    upstreams: [
      {
        id: upstream,
        name: 'users.upstream',
        algorithm: 'round-robin',
        hash_on: 'none',
        hash_fallback: 'none',
        hash_on_header: null,
        hash_fallback_header: null,
        hash_on_cookie: null,
        hash_on_cookie_path: '/',
        hash_on_query_arg: null,
        hash_fallback_query_arg: null,
        hash_on_uri_capture: null,
        hash_fallback_uri_capture: null,
        slots: 10000,
        host_header: null,
        client_certificate: null,
        use_srv_name: false,
        tags: null,
        created_at: 1700000000,
        updated_at: 1700000000,
        healthchecks: { threshold: 0, active: { https_sni: null, headers: null } },
      },
    ],
    targets: [
      {
        id: 'f0c3d8a2-1b7e-4c59-9a6d-2e8b4f1c7a35',
        upstream,
        target: '127.0.0.1:5101',
        weight: 100,
        tags: null,
        created_at: 1700000000.123,
        updated_at: 1700000000.123,
      },
    ],
  }
  const { document, issues } = parseDeclarative(JSON.stringify(exported), registry)
  assert.deepEqual(issues, [])
  assert.deepEqual(document?.routes[0]?.service, { id: service })
  assert.deepEqual(document?.keyauth_credentials[0]?.consumer, { id: consumer })
  assert.deepEqual(document?.plugins[0]?.route, { id: route })
  assert.equal(document?.plugins[0]?.service, undefined)
  assert.deepEqual(document?.targets[0]?.upstream, { id: upstream })
  assert.equal('path' in (document?.services[0] ?? {}), false)
  assert.equal('custom_id' in (document?.consumers[0] ?? {}), false)
  assert.equal(document?.upstreams[0]?.healthchecks.active.type, 'http')
})

test('basic-auth passwords are hashed on load, and taken as already hashed with _transform: false', () => {
  const file = (transform: boolean, password: string) => `_format_version: "3.0"
_transform: ${transform}
consumers: [{ username: alice, basicauth_credentials: [{ username: alice, password: "${password}" }] }]`
  const hashed = load(file(true, 'open sesame')).basicauth_credentials[0]?.password ?? ''
  assert.ok(verifyPassword('open sesame', hashed))
  assert.equal(load(file(false, hashed)).basicauth_credentials[0]?.password, hashed)
})

test('format version 2.1 is read like 3.0; _comment and _ignore are accepted anywhere', () => {
  const doc = load(`_format_version: "2.1"
_comment: migrated from Kong 2.8
_ignore: [anything, { at: all }]
services:
  - name: a
    host: a
    _comment: the one service
    routes: [{ paths: [/], _ignore: [x] }]`)
  assert.equal(doc.services.length, 1)
  assert.equal('_comment' in (doc.services[0] ?? {}), false)
  assert.equal('_ignore' in (doc.routes[0] ?? {}), false)
})

test('format versions 1.1 and 2.1 migrate as Kong 3 does: regex-looking route paths get "~"', () => {
  for (const version of ['1.1', '2.1']) {
    const doc = load(`_format_version: "${version}"
services:
  - name: a
    host: a
    routes: [{ name: r1, paths: [/plain/path-1_~, "/v1/(.*)", "/end$"] }]
routes:
  - name: r2
    service: a
    paths: ["/ab%2Ecd[0-9]+", ~/kept]`)
    const paths = Object.fromEntries(doc.routes.map((r) => [r.name, r.paths]))
    assert.deepEqual(paths.r1, ['/plain/path-1_~', '~/v1/(.*)', '~/end$'])
    assert.deepEqual(paths.r2, ['~/ab\\.cd[0-9]+', '~/kept'])
  }
  // 3.0 files are taken as written: a path without "~" is a prefix
  const doc = load('_format_version: "3.0"\nroutes: [{ name: r, paths: ["/v1/(x)"] }]')
  assert.deepEqual(doc.routes[0]?.paths, ['/v1/(x)'])
})

test("decK's top-level keys are accepted: _info, _workspace (default), _comment", () => {
  const doc = load(`_format_version: "3.0"
_info: { select_tags: [team-a], defaults: {} }
_workspace: default
_comment: dumped by decK
consumers: [{ username: alice }]`)
  assert.equal(doc.consumers.length, 1)
})

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { z } from 'zod'
import { DEMO_CONFIG } from '../../src/cli/demo.js'
import { adoptValidated, parseDeclarative, validateDocument } from '../../src/config/index.js'
import type { ConfigDocument } from '../../src/core/entities.js'
import type { PluginRegistry } from '../../src/core/plugin.js'
import { createRegistry } from '../../src/plugins/index.js'

// Every entity kind and every built-in plugin, on top of the demo's configuration.
/** A self-signed CA certificate made for this run: a certificate (with an SNI) and a CA certificate. */
function selfSignedCa(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portico-revalidate-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=revalidate.test',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-addext',
        'basicConstraints=critical,CA:TRUE',
      ],
      { stdio: 'ignore' },
    )
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
const PEM = selfSignedCa()

const EXTRA = `
_format_version: "3.0"
certificates:
  - cert: ${JSON.stringify(PEM.cert)}
    key: ${JSON.stringify(PEM.key)}
    snis: [{ name: revalidate.test }]
ca_certificates:
  - cert: ${JSON.stringify(PEM.cert)}
services:
  - name: extra
    url: https://extra.test:8443/v1
    retries: 2
    routes:
      - name: extra-route
        paths: ["~/items/\\\\d+$", /extra]
        hosts: ["*.example.com"]
        methods: [GET, POST]
        headers: { x-version: ["2"] }
        strip_path: false
        plugins:
          - name: key-auth
            config: { key_names: [apikey, x-api-key], hide_credentials: true }
          - name: acl
            config: { allow: [gold] }
          - name: rate-limiting
            config: { minute: 5, hour: 100, policy: local, limit_by: consumer }
          - name: response-transformer
            config: { add: { headers: ["x-served-by:portico"] } }
      - name: extra-jwt
        paths: [/jwt]
        plugins:
          - name: jwt
            config: { claims_to_verify: [exp] }
          - name: ip-restriction
            config: { allow: [127.0.0.1, 10.0.0.0/8] }
      - name: extra-basic
        paths: [/basic]
        plugins:
          - name: basic-auth
          - name: request-termination
            config: { status_code: 503, message: maintenance }
consumers:
  - username: carol
    custom_id: a-1
    keyauth_credentials: [{ key: carol-key }]
    jwt_secrets: [{ key: carol-iss, secret: carol-secret-carol-secret-carol-secret, algorithm: HS256 }]
    basicauth_credentials: [{ username: carol, password: open-sesame }]
    acls: [{ group: gold }]
    plugins:
      - name: rate-limiting
        config: { second: 2 }
upstreams:
  - name: extra.up
    algorithm: consistent-hashing
    hash_on: header
    hash_on_header: x-user
    targets:
      - { target: "10.0.0.1:80", weight: 50 }
      - { target: "10.0.0.2:80" }
`

const registry = createRegistry()

function richDocument(): ConfigDocument {
  const demo = parseDeclarative(readFileSync(DEMO_CONFIG, 'utf8'), registry)
  const extra = parseDeclarative(EXTRA, registry)
  assert.deepEqual([...demo.issues, ...extra.issues], [])
  const doc = demo.document as ConfigDocument
  const more = extra.document as ConfigDocument
  const out = {} as Record<string, unknown[]>
  for (const kind of Object.keys(doc) as Array<keyof ConfigDocument>)
    out[kind] = [...doc[kind], ...more[kind]]
  const merged = validateDocument({ _format_version: '3.0', _transform: false, ...out }, registry)
  assert.deepEqual(merged.issues, [])
  return merged.document as ConfigDocument
}

const input = (doc: unknown) => ({ _format_version: '3.0', _transform: false, ...(doc as object) })

test('validating a validated document gives it back unchanged, whether its entities are the validated objects or copies', () => {
  const doc = richDocument()
  for (const [kind, list] of Object.entries(doc)) assert.ok(list.length > 0, `the document has ${kind}`)
  // copies: every schema runs again on its own output
  const fresh = validateDocument(input(structuredClone(doc)), registry)
  assert.deepEqual(fresh.issues, [])
  assert.equal(JSON.stringify(fresh.document), JSON.stringify(doc))
  // the same objects: the schemas are skipped, the outcome is the same
  const again = validateDocument(input(doc), registry)
  assert.deepEqual(again.issues, [])
  assert.equal(JSON.stringify(again.document), JSON.stringify(doc))
  // another registry (here: a key-auth without config fields) validates them itself
  const strict: PluginRegistry = {
    get: (name) => {
      const def = registry.get(name)
      return name === 'key-auth' && def !== undefined ? { ...def, schema: z.strictObject({}) } : def
    },
    names: () => registry.names(),
  }
  const other = validateDocument(input(doc), strict)
  assert.equal(other.document, null)
  assert.ok(
    other.issues.some((i) => /^plugins\[\d+\]\.config/.test(i.path)),
    JSON.stringify(other.issues),
  )
})

test('beside already validated entities, a changed one is checked in full, and references across the document still are', () => {
  const doc = richDocument()
  const routes: unknown[] = doc.routes.map((r) => (r.name === 'extra-route' ? { ...r, paths: 'nope' } : r))
  const draft = { ...doc, routes }
  const bad = validateDocument(input(draft), registry)
  assert.equal(bad.document, null)
  assert.ok(bad.issues.some((i) => /^routes\[\d+\]\.paths$/.test(i.path)))

  // a validated route whose service is gone
  const orphaned = { ...doc, services: doc.services.filter((s) => s.name !== 'extra') }
  const refs = validateDocument(input(orphaned), registry)
  assert.equal(refs.document, null)
  assert.ok(
    refs.issues.some((i) => /^routes\[\d+\]\.service$/.test(i.path)),
    JSON.stringify(refs.issues),
  )

  // two validated consumers with the same username
  const twice = { ...doc, consumers: [...doc.consumers, { ...doc.consumers[0], id: crypto.randomUUID() }] }
  const unique = validateDocument(input(twice), registry)
  assert.equal(unique.document, null)
  assert.ok(unique.issues.some((i) => /uniqueness violation/.test(i.message)))
})

test('plugin schemas run for new entities only: not again for returned ones, nor for a copy adopted as validated', () => {
  let parses = 0
  const counting: PluginRegistry = {
    get: (name) => {
      const def = registry.get(name)
      if (def === undefined) return undefined
      const schema = def.schema
      const wrapped = Object.create(schema) as typeof schema
      wrapped.safeParse = ((value: unknown, params: never) => {
        parses++
        return schema.safeParse(value, params)
      }) as typeof schema.safeParse
      return { ...def, schema: wrapped }
    },
    names: () => registry.names(),
  }
  const first = validateDocument(input(richDocument()), counting)
  const doc = first.document as ConfigDocument
  assert.ok(parses >= doc.plugins.length)

  parses = 0
  assert.equal(JSON.stringify(validateDocument(input(doc), counting).document), JSON.stringify(doc))
  assert.equal(parses, 0, 'returned entities are not parsed again')

  const copy = JSON.parse(JSON.stringify(doc)) as ConfigDocument
  assert.equal(JSON.stringify(validateDocument(input(copy), counting).document), JSON.stringify(doc))
  assert.equal(parses, doc.plugins.length, 'a copy is parsed')

  parses = 0
  const stored = JSON.parse(JSON.stringify(doc)) as ConfigDocument
  adoptValidated(stored, counting)
  assert.equal(JSON.stringify(validateDocument(input(stored), counting).document), JSON.stringify(doc))
  assert.equal(parses, 0, 'an adopted document is not parsed again')
})

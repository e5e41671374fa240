import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { parseDeclarative } from '../../src/config/declarative.js'
import { exportDeclarative } from '../../src/config/export.js'
import { createRegistry } from '../../src/plugins/index.js'
import { handshake, type Pem, Pki } from '../fixtures/certs.js'
import { gateway, type Upstream, upstream } from '../fixtures/helpers.js'

// A Kong declarative file with certificates, their nested snis and ca_certificates loads
// unchanged and serves: the SNI picks the certificate, the route answers over TLS.

const indent = (pem: string, n: number) =>
  pem
    .trim()
    .split('\n')
    .map((l) => `${' '.repeat(n)}${l}`)
    .join('\n')

function kongFile(api: Pem, wild: Pem, ca: string, upstreamUrl: string): string {
  return `_format_version: "3.0"
_transform: true
certificates:
  - id: 2e0e2b7c-6a4f-4b8e-9d57-1f0b5a1c0a01
    cert: |
${indent(api.cert, 6)}
    key: |
${indent(api.key, 6)}
    tags: [edge]
    snis:
      - name: api.kong.test
  - cert: |
${indent(wild.cert, 6)}
    key: |
${indent(wild.key, 6)}
    snis:
      - name: "*.apps.kong.test"
ca_certificates:
  - id: 7b7f3c1e-2b1d-4e35-8a0c-4c1b2a3d4e5f
    cert: |
${indent(ca, 6)}
services:
  - name: api
    url: ${upstreamUrl}
    routes:
      - name: api
        hosts: [api.kong.test]
        protocols: [https]
        paths: [/]
`
}

describe('a Kong file with certificates and snis', () => {
  let pki: Pki
  let api: Pem
  let wild: Pem
  let up: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  let text: string

  before(async () => {
    pki = await Pki.create()
    api = await pki.leaf('api.kong.test')
    wild = await pki.leaf('apps', ['*.apps.kong.test'])
    const fallback = await pki.leaf('fallback.test')
    up = await upstream('kong-file-up')
    text = kongFile(api, wild, pki.ca.cert, up.url)
    gw = await gateway(text, {
      proxyListen: [
        { host: '127.0.0.1', port: 0, ssl: false, http2: false },
        { host: '127.0.0.1', port: 0, ssl: true, http2: true },
      ],
      ssl: {
        cert: fallback.cert,
        key: fallback.key,
        ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
      },
    })
  })
  after(async () => {
    await gw.stop()
    await up.close()
    pki.close()
  })

  test('it loads: certificates, snis (nested) and ca_certificates are in the document', () => {
    const doc = gw.gateway.runtime.document
    assert.equal(doc.certificates.length, 2)
    assert.equal(doc.certificates[0]!.id, '2e0e2b7c-6a4f-4b8e-9d57-1f0b5a1c0a01')
    assert.deepEqual(
      doc.snis.map((s) => s.name),
      ['api.kong.test', '*.apps.kong.test'],
    )
    assert.equal(doc.snis[0]!.certificate.id, doc.certificates[0]!.id)
    assert.equal(doc.ca_certificates.length, 1)
    assert.match(String(doc.ca_certificates[0]!.cert_digest), /^[0-9a-f]{64}$/)
  })

  test('it serves: the SNI picks the certificate, the https route answers', async () => {
    const port = gw.listeners[1]!.port
    assert.equal((await handshake(port, 'api.kong.test')).cn, 'api.kong.test')
    assert.equal((await handshake(port, 'x.apps.kong.test')).cn, 'apps')
    assert.equal((await handshake(port, 'other.test')).cn, 'fallback.test')
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'api.kong.test' } })
    try {
      const res = await request(`https://127.0.0.1:${port}/hello`, {
        dispatcher,
        headers: { host: 'api.kong.test' },
      })
      assert.equal(res.statusCode, 200)
      assert.equal(((await res.body.json()) as { name: string }).name, 'kong-file-up')
    } finally {
      await dispatcher.close()
    }
  })

  test('export round-trips: snis nested in their certificate, the same document back', () => {
    const doc = gw.gateway.runtime.document
    const out = exportDeclarative(doc, 'yaml')
    const back = parseDeclarative(out, createRegistry())
    assert.deepEqual(back.issues, [])
    assert.deepEqual(back.document?.certificates, doc.certificates)
    assert.deepEqual(back.document?.snis, doc.snis)
    assert.deepEqual(back.document?.ca_certificates, doc.ca_certificates)
  })

  test('a sni naming no certificate, or a bad key, is refused with its path', () => {
    const bad = parseDeclarative(
      '_format_version: "3.0"\nsnis:\n  - { name: a.test, certificate: 00000000-0000-4000-8000-000000000000 }\n',
      createRegistry(),
    )
    assert.equal(bad.document, null)
    assert.match(
      bad.issues.map((i) => `${i.path}: ${i.message}`).join('\n'),
      /snis\[0\]\.certificate: invalid reference/,
    )
    const mismatch = parseDeclarative(
      `_format_version: "3.0"\ncertificates:\n  - cert: |\n${indent(api.cert, 6)}\n    key: |\n${indent(wild.key, 6)}\n`,
      createRegistry(),
    )
    assert.deepEqual(
      mismatch.issues.map((i) => `${i.path}: ${i.message}`),
      ['certificates[0]: certificate does not match key'],
    )
  })
})

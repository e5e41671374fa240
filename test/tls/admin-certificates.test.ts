import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { type Pem, Pki, selfSigned } from '../fixtures/certs.js'

// Kong's /certificates, /snis and /ca_certificates as its spec files test them
// (spec/02-integration/04-admin_api/06-certificates_routes_spec.lua and
// 16-ca_certificates_routes_spec.lua): shapes, the transient `snis` list, errors.

describe('Admin API: certificates, snis, ca_certificates', () => {
  let pki: Pki
  let a: AdminNode
  let ec: Pem
  let ec2: Pem
  let rsa: Pem

  before(async () => {
    pki = await Pki.create()
    ec = await pki.leaf('one.test')
    ec2 = await pki.leaf('two.test')
    rsa = await pki.leaf('one.test', ['one.test'], { rsa: true })
    a = await adminNode()
  })
  after(async () => {
    await a.stop()
    pki.close()
  })

  test('POST with snis (JSON and form), Kong shape: cert, key, nulls, snis sorted', async () => {
    const j = await a.req('POST', '/certificates', { cert: ec.cert, key: ec.key, snis: ['b.test', 'a.test'] })
    assert.equal(j.status, 201, j.text)
    assert.equal(j.body.cert, ec.cert)
    assert.equal(j.body.key, ec.key, 'Kong returns the key as stored')
    assert.equal(j.body.cert_alt, null)
    assert.equal(j.body.key_alt, null)
    assert.deepEqual(j.body.snis, ['a.test', 'b.test'])
    assert.equal(typeof j.body.created_at, 'number')
    const f = await a.req(
      'POST',
      '/certificates',
      [
        ['cert', ec2.cert],
        ['key', ec2.key],
        ['snis', 'c.test'],
      ],
      { form: true },
    )
    assert.equal(f.status, 201, f.text)
    assert.deepEqual(f.body.snis, ['c.test'])
    const none = await a.req('POST', '/certificates', { cert: ec2.cert, key: ec2.key })
    assert.equal(none.status, 201)
    assert.ok(none.text.includes('"snis":[]'))
    const list = await a.req('GET', '/certificates')
    assert.equal((list.body.data as unknown[]).length, 3)
    const snis = await a.req('GET', '/snis')
    assert.deepEqual(
      (snis.body.data as Array<{ name: string; certificate: { id: string } }>).map((s) => s.name).sort(),
      ['a.test', 'b.test', 'c.test'],
    )
  })

  test('duplicated and taken snis are refused, nothing written', async () => {
    const dup = await a.req('POST', '/certificates', {
      cert: ec.cert,
      key: ec.key,
      snis: ['d.test', 'e.test', 'd.test'],
    })
    assert.equal(dup.status, 400)
    assert.equal(dup.body.message, 'schema violation (snis: d.test is duplicated)')
    const taken = await a.req('POST', '/certificates', {
      cert: ec.cert,
      key: ec.key,
      snis: ['a.test', 'f.test'],
    })
    assert.equal(taken.status, 400)
    assert.match(String(taken.body.message), /snis: a\.test already associated with existing certificate/)
    const snis = await a.req('GET', '/snis')
    const names = (snis.body.data as Array<{ name: string }>).map((s) => s.name)
    assert.ok(!names.includes('d.test') && !names.includes('f.test'))
    assert.equal(((await a.req('GET', '/certificates')).body.data as unknown[]).length, 3)
  })

  test('by id or by sni; 404 "SNI not found" for an unknown name', async () => {
    const bySni = await a.req('GET', '/certificates/a.test')
    assert.equal(bySni.status, 200)
    const byId = await a.req('GET', `/certificates/${bySni.body.id}`)
    assert.deepEqual(byId.body, bySni.body)
    const missing = await a.req('GET', '/certificates/nope.test')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.message, 'SNI not found')
    assert.equal((await a.req('GET', '/certificates/00000000-0000-4000-8000-000000000000')).status, 404)
  })

  test('PATCH replaces snis when given, keeps them when not; null clears them', async () => {
    const id = String((await a.req('GET', '/certificates/a.test')).body.id)
    const only = await a.req('PATCH', `/certificates/${id}`, { cert: ec2.cert, key: ec2.key })
    assert.equal(only.status, 200, only.text)
    assert.deepEqual(only.body.snis, ['a.test', 'b.test'])
    const renamed = await a.req('PATCH', `/certificates/${id}`, { snis: ['g.test'] })
    assert.deepEqual(renamed.body.snis, ['g.test'])
    assert.equal((await a.req('GET', '/snis/a.test')).status, 404)
    const cleared = await a.req('PATCH', `/certificates/${id}`, { snis: null })
    assert.equal(cleared.status, 200)
    assert.ok(cleared.text.includes('"snis":[]'))
  })

  test('PUT by a new sni creates with that name; PUT without snis leaves none', async () => {
    const put = await a.req('PUT', '/certificates/h.test', { cert: ec.cert, key: ec.key, snis: ['i.test'] })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual(put.body.snis, ['h.test', 'i.test'])
    const again = await a.req('PUT', `/certificates/${put.body.id}`, { cert: ec.cert, key: ec.key })
    assert.deepEqual(again.body.snis, [])
  })

  test("Kong's schema errors: missing fields, mismatched key, cert_alt without key_alt, same key type", async () => {
    const missing = await a.req('PUT', '/certificates/00000000-0000-4000-8000-000000000001', {})
    assert.equal(missing.status, 400)
    assert.deepEqual(missing.body.fields, { cert: 'required field missing', key: 'required field missing' })
    assert.equal(
      missing.body.message,
      '2 schema violations (cert: required field missing; key: required field missing)',
    )
    const mismatch = await a.req('POST', '/certificates', { cert: ec.cert, key: ec2.key })
    assert.deepEqual(mismatch.body, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (certificate does not match key)',
      fields: { '@entity': ['certificate does not match key'] },
    })
    const half = await a.req('POST', '/certificates', { cert: ec.cert, key: ec.key, cert_alt: rsa.cert })
    assert.deepEqual(half.body.fields, {
      '@entity': ["all or none of these fields must be set: 'cert_alt', 'key_alt'"],
    })
    const same = await a.req('POST', '/certificates', {
      cert: ec.cert,
      key: ec.key,
      cert_alt: ec2.cert,
      key_alt: ec2.key,
    })
    assert.match(String(same.body.message), /need to have different type/)
    const alt = await a.req('POST', '/certificates', {
      cert: ec.cert,
      key: ec.key,
      cert_alt: rsa.cert,
      key_alt: rsa.key,
    })
    assert.equal(alt.status, 201, alt.text)
    assert.equal(alt.body.cert_alt, rsa.cert)
    const garbage = await a.req('POST', '/certificates', { cert: 'nope', key: 'secret-key-material' })
    assert.equal(garbage.status, 400)
    assert.ok(!garbage.text.includes('secret-key-material'), 'a bad key is never echoed')
  })

  test('/snis: wildcards, invalid names, by name (url-encoded *), nested under a certificate', async () => {
    const cert = (await a.req('POST', '/certificates', { cert: ec.cert, key: ec.key })).body
    const left = await a.req('POST', '/snis', { name: '*.wild.test', certificate: { id: cert.id } })
    assert.equal(left.status, 201, left.text)
    assert.deepEqual(left.body.certificate, { id: cert.id })
    const right = await a.req('POST', '/snis', { name: 'wild.*', certificate: { id: cert.id } })
    assert.equal(right.status, 201)
    const bad = await a.req('POST', '/snis', { name: '*.wildcard.*', certificate: { id: cert.id } })
    assert.equal(bad.status, 400)
    assert.equal((bad.body.fields as Record<string, string>).name, 'only one wildcard must be specified')
    assert.equal((await a.req('GET', '/snis/%2A.wild.test')).body.name, '*.wild.test')
    const nested = await a.req('POST', `/certificates/${cert.id}/snis`, { name: 'nested.test' })
    assert.equal(nested.status, 201)
    const dup = await a.req('POST', `/certificates/${cert.id}/snis`, { name: 'nested.test' })
    assert.equal(dup.status, 409)
    assert.equal(dup.body.name, 'unique constraint violation')
    const listed = await a.req('GET', `/certificates/${cert.id}/snis`)
    assert.equal((listed.body.data as unknown[]).length, 3)
    assert.equal((await a.req('GET', '/certificates/00000000-0000-4000-8000-000000000009/snis')).status, 404)
    const missing = await a.req('PUT', '/snis/00000000-0000-4000-8000-000000000002', {})
    assert.deepEqual(missing.body.fields, {
      certificate: 'required field missing',
      name: 'required field missing',
    })
  })

  test('/ca_certificates: a CA is accepted with its digest; a leaf, two certs or garbage are not', async () => {
    const ok = await a.req('POST', '/ca_certificates', { cert: pki.ca.cert })
    assert.equal(ok.status, 201, ok.text)
    assert.match(String(ok.body.cert_digest), /^[0-9a-f]{64}$/)
    const leaf = await a.req('POST', '/ca_certificates', { cert: ec.cert })
    assert.equal(leaf.status, 400)
    assert.equal(
      (leaf.body.fields as Record<string, string>).cert,
      'certificate does not appear to be a CA because it is missing the "CA" basic constraint',
    )
    const two = await a.req('POST', '/ca_certificates', { cert: pki.ca.cert + ec.cert })
    assert.equal(
      (two.body.fields as Record<string, string>).cert,
      'please submit only one certificate at a time',
    )
    const again = await a.req('POST', '/ca_certificates', { cert: pki.ca.cert })
    assert.equal(again.status, 400, 'the same CA twice (cert_digest is unique)')
    const other = await selfSigned(pki.dir, 'other-ca', 'other', ['basicConstraints=critical,CA:TRUE'])
    const form = await a.req('POST', '/ca_certificates', [['cert', other.cert]], { form: true })
    assert.equal(form.status, 201)
    assert.equal((await a.req('DELETE', `/ca_certificates/${form.body.id}`)).status, 204)
  })

  test('a service refers to CA certificates and a client certificate; unknown ones are refused', async () => {
    const ca = (await a.req('GET', '/ca_certificates')).body.data as Array<{ id: string }>
    const client = (await a.req('POST', '/certificates', { cert: ec.cert, key: ec.key })).body
    const s = await a.req('POST', '/services', {
      name: 'tls-up',
      url: 'https://127.0.0.1:9',
      tls_verify: true,
      tls_verify_depth: 2,
      ca_certificates: [ca[0]!.id],
      client_certificate: { id: client.id },
    })
    assert.equal(s.status, 201, s.text)
    assert.deepEqual(s.body.client_certificate, { id: client.id })
    assert.deepEqual(s.body.ca_certificates, [ca[0]!.id])
    assert.equal(s.body.tls_verify_depth, 2)
    const bad = await a.req('POST', '/services', {
      url: 'https://127.0.0.1:9',
      ca_certificates: ['00000000-0000-4000-8000-00000000000a'],
    })
    assert.equal(bad.status, 400)
    const plain = await a.req('POST', '/services', { url: 'http://127.0.0.1:9', tls_verify_depth: 1 })
    assert.equal(plain.status, 400)
    const inUse = await a.req('DELETE', `/ca_certificates/${ca[0]!.id}`)
    assert.equal(inUse.status, 400, 'a CA a service uses stays')
  })
})

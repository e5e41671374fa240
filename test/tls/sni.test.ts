import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { handshake, type Pem, Pki } from '../fixtures/certs.js'

// SNI selection (exact over wildcard, then the default certificate), session resumption, TLS
// versions, and a certificate rotated through the Admin API while handshakes keep coming.

describe('TLS listener: certificates chosen by SNI', () => {
  let pki: Pki
  let a: AdminNode
  let tlsPort: number
  const certs: Record<string, Pem> = {}

  before(async () => {
    pki = await Pki.create()
    certs.default = await pki.leaf('default.test')
    certs.exact = await pki.leaf('exact.wild.test')
    certs.wild = await pki.leaf('wildcard', ['*.wild.test'])
    certs.suffix = await pki.leaf('suffix', ['api.suffix.example'])
    certs.rotated = await pki.leaf('exact-rotated', ['exact.wild.test'])
    a = await adminNode({
      proxyListen: [
        { host: '127.0.0.1', port: 0, ssl: false, http2: false },
        { host: '127.0.0.1', port: 0, ssl: true, http2: true },
      ],
      ssl: {
        cert: certs.default!.cert,
        key: certs.default!.key,
        ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
      },
    })
    tlsPort = a.node.listeners[1]!.port
  })
  after(async () => {
    await a.stop()
    pki.close()
  })

  test('no SNI entity yet: every name gets the default certificate', async () => {
    assert.equal((await handshake(tlsPort, 'exact.wild.test')).cn, 'default.test')
    assert.equal((await handshake(tlsPort, undefined)).cn, 'default.test')
  })

  test('exact beats wildcard, wildcards match one label, others get the default', async () => {
    const wild = await a.req('POST', '/certificates', { ...certs.wild, snis: ['*.wild.test'] })
    assert.equal(wild.status, 201, wild.text)
    // form-encoded, as Kong's curl examples: snis[]=…
    const exact = await a.req(
      'POST',
      '/certificates',
      [
        ['cert', certs.exact!.cert],
        ['key', certs.exact!.key],
        ['snis[]', 'exact.wild.test'],
      ],
      { form: true },
    )
    assert.equal(exact.status, 201, exact.text)
    assert.deepEqual(exact.body.snis, ['exact.wild.test'])
    const suffix = await a.req('POST', '/certificates', { ...certs.suffix, snis: ['api.suffix.*'] })
    assert.equal(suffix.status, 201, suffix.text)

    assert.equal((await handshake(tlsPort, 'exact.wild.test')).cn, 'exact.wild.test')
    assert.equal(
      (await handshake(tlsPort, 'EXACT.wild.test')).cn,
      'exact.wild.test',
      'names are case-insensitive',
    )
    assert.equal((await handshake(tlsPort, 'other.wild.test')).cn, 'wildcard')
    assert.equal(
      (await handshake(tlsPort, 'a.b.wild.test')).cn,
      'default.test',
      'a wildcard covers one label',
    )
    assert.equal((await handshake(tlsPort, 'api.suffix.anything')).cn, 'suffix')
    assert.equal((await handshake(tlsPort, 'nothing.test')).cn, 'default.test')
    assert.equal((await handshake(tlsPort, undefined)).cn, 'default.test')
  })

  test('TLS 1.2 and 1.3 only; sessions resume; ALPN offers h2 and http/1.1', async () => {
    const h2 = await handshake(tlsPort, 'exact.wild.test', { alpn: ['h2', 'http/1.1'] })
    assert.equal(h2.version, 'TLSv1.3')
    assert.equal(h2.alpn, 'h2')
    const first = await handshake(tlsPort, 'exact.wild.test')
    assert.equal(first.alpn, 'http/1.1')
    assert.ok(first.session, 'a session ticket was issued')
    const again = await handshake(tlsPort, 'exact.wild.test', { session: first.session })
    assert.equal(again.reused, true, 'the ticket resumed the session')
    assert.equal(again.alpn, 'http/1.1')
    const tls = await import('node:tls')
    const old = await new Promise<string>((resolve) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: tlsPort,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
        rejectUnauthorized: false,
      })
      s.once('secureConnect', () => {
        s.destroy()
        resolve('connected')
      })
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    })
    assert.notEqual(old, 'connected', 'TLS 1.1 is refused')
  })

  test('a certificate rotated through the Admin API under load: 0 failed handshakes, the new one served', async () => {
    const list = await a.req('GET', '/certificates/exact.wild.test')
    assert.equal(list.status, 200)
    const id = String(list.body.id)
    const seen = new Set<string>()
    const handshakeErrors = a.node.h2.tlsHandshakeErrors
    let failures = 0
    let done = 0
    const TOTAL = 240
    // four clients in a loop, 240 handshakes in all (bounded), while the certificate is replaced
    const client = async () => {
      while (done < TOTAL) {
        done++
        try {
          seen.add((await handshake(tlsPort, 'exact.wild.test')).cn)
        } catch {
          failures++
        }
      }
    }
    const rotate = async () => {
      for (let i = 0; i < 6; i++) {
        const pem = i % 2 === 0 ? certs.rotated! : certs.exact!
        const r = await a.req('PATCH', `/certificates/${id}`, { cert: pem.cert, key: pem.key })
        assert.equal(r.status, 200, r.text)
        await new Promise((r) => setTimeout(r, 30))
      }
      const last = await a.req('PATCH', `/certificates/${id}`, {
        cert: certs.rotated!.cert,
        key: certs.rotated!.key,
      })
      assert.equal(last.status, 200)
    }
    await Promise.all([client(), client(), client(), client(), rotate()])
    assert.equal(failures, 0)
    assert.ok(
      seen.has('exact.wild.test') && seen.has('exact-rotated'),
      `both served during the run: ${[...seen]}`,
    )
    assert.equal((await handshake(tlsPort, 'exact.wild.test')).cn, 'exact-rotated', 'the new one from now on')
    assert.equal(a.node.h2.tlsHandshakeErrors, handshakeErrors, 'no handshake failed on the server either')
  })

  test('a deleted certificate takes its SNIs with it: the default certificate again', async () => {
    const r = await a.req('DELETE', '/certificates/%2A.wild.test')
    assert.equal(r.status, 204)
    assert.equal((await a.req('GET', '/snis/%2A.wild.test')).status, 404)
    assert.equal((await handshake(tlsPort, 'other.wild.test')).cn, 'default.test')
  })
})

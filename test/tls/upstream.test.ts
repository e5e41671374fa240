import assert from 'node:assert/strict'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { type Pem, Pki } from '../fixtures/certs.js'
import { call } from '../fixtures/helpers.js'

// Upstream TLS: https services verified against their ca_certificates, tls_verify and
// tls_verify_depth, a client certificate for an upstream that requires one (mTLS), and the
// name sent as SNI.

interface TlsUpstream {
  port: number
  seen: Array<{ servername: string | false; clientCn: string | undefined }>
  close(): Promise<void>
}

async function tlsUpstream(pem: Pem, opts: { requireClientCa?: string } = {}): Promise<TlsUpstream> {
  const seen: TlsUpstream['seen'] = []
  const server = https.createServer(
    {
      cert: pem.cert,
      key: pem.key,
      ...(opts.requireClientCa === undefined
        ? {}
        : { requestCert: true, rejectUnauthorized: true, ca: opts.requireClientCa }),
    },
    (req, res) => {
      const socket = req.socket as TLSSocket & { servername?: string | false }
      const peer = socket.getPeerCertificate()
      const cn = peer?.subject?.CN
      seen.push({ servername: socket.servername ?? false, clientCn: Array.isArray(cn) ? cn[0] : cn })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: true }))
    },
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

describe('upstream TLS', () => {
  let pki: Pki
  let rogue: Pki
  let a: AdminNode
  let mtls: TlsUpstream
  let plain: TlsUpstream
  let untrusted: TlsUpstream
  let caId: string
  let clientId: string

  before(async () => {
    pki = await Pki.create('upstream-ca')
    rogue = await Pki.create('rogue-ca')
    const serverPem = await pki.leaf('up.test', ['up.test'])
    const clientPem = await pki.leaf('portico-client', ['portico-client'], { client: true })
    mtls = await tlsUpstream(serverPem, { requireClientCa: pki.ca.cert })
    plain = await tlsUpstream(serverPem)
    untrusted = await tlsUpstream(await rogue.leaf('up.test', ['up.test']))
    a = await adminNode()
    caId = String((await a.req('POST', '/ca_certificates', { cert: pki.ca.cert })).body.id)
    clientId = String((await a.req('POST', '/certificates', { ...clientPem })).body.id)
  })
  after(async () => {
    await a.stop()
    await Promise.all([mtls.close(), plain.close(), untrusted.close()])
    pki.close()
    rogue.close()
  })

  /** An upstream entity named `name` whose Host (and SNI) is up.test, with one target. */
  async function route(name: string, port: number, service: Record<string, unknown>): Promise<void> {
    const u = await a.req('POST', '/upstreams', { name: `${name}-pool`, host_header: 'up.test' })
    assert.equal(u.status, 201, u.text)
    assert.equal(
      (await a.req('POST', `/upstreams/${name}-pool/targets`, { target: `127.0.0.1:${port}` })).status,
      201,
    )
    const s = await a.req('POST', '/services', {
      name,
      protocol: 'https',
      host: `${name}-pool`,
      port,
      retries: 0,
      ...service,
    })
    assert.equal(s.status, 201, s.text)
    assert.equal((await a.req('POST', `/services/${name}/routes`, { paths: [`/${name}`] })).status, 201)
  }

  test('mTLS: the client certificate is presented, the CA verifies the upstream, SNI is its Host', async () => {
    await route('mtls', mtls.port, {
      tls_verify: true,
      ca_certificates: [caId],
      client_certificate: { id: clientId },
    })
    const r = await call(`${a.proxy}/mtls`)
    assert.equal(r.status, 200, r.text)
    assert.equal(mtls.seen.at(-1)!.clientCn, 'portico-client')
    assert.equal(mtls.seen.at(-1)!.servername, 'up.test')
  })

  test('an upstream that requires a client certificate refuses a service without one (502)', async () => {
    await route('nocert', mtls.port, { tls_verify: true, ca_certificates: [caId] })
    const before = mtls.seen.length
    const r = await call(`${a.proxy}/nocert`)
    assert.equal(r.status, 502)
    assert.equal(mtls.seen.length, before)
  })

  test('an upstream certificate from an untrusted CA is refused when tls_verify is on', async () => {
    await route('rogue', untrusted.port, { tls_verify: true, ca_certificates: [caId] })
    assert.equal((await call(`${a.proxy}/rogue`)).status, 502)
    assert.equal(untrusted.seen.length, 0)
    // the same upstream with verification off is reached
    await route('rogue-off', untrusted.port, { tls_verify: false })
    assert.equal((await call(`${a.proxy}/rogue-off`)).status, 200)
    assert.equal(untrusted.seen.length, 1)
  })

  test('tls_verify_depth: 0 refuses a CA-signed chain, 1 accepts it', async () => {
    await route('deep0', plain.port, { tls_verify: true, ca_certificates: [caId], tls_verify_depth: 0 })
    assert.equal((await call(`${a.proxy}/deep0`)).status, 502)
    await route('deep1', plain.port, { tls_verify: true, ca_certificates: [caId], tls_verify_depth: 1 })
    assert.equal((await call(`${a.proxy}/deep1`)).status, 200)
  })
})

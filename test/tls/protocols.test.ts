import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { type Pem, Pki } from '../fixtures/certs.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

// Kong's route `protocols`: an https-only route asked over HTTP gets 426 (or the redirect its
// https_redirect_status_code names); X-Forwarded-Proto/-Port name the TLS listener.

describe('route protocols and the TLS listener', () => {
  let pki: Pki
  let server: Pem
  let up: Upstream
  let gw: Awaited<ReturnType<typeof gateway>>
  let dispatcher: Agent
  let tlsPort: number

  before(async () => {
    pki = await Pki.create()
    server = await pki.leaf('edge.test')
    up = await upstream('proto-up')
    gw = await gateway(
      `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - { name: secure, paths: [/secure], protocols: [https] }
      - { name: moved, paths: [/moved], protocols: [https], https_redirect_status_code: 308 }
      - { name: both, paths: [/both] }
`,
      {
        proxyListen: [
          { host: '127.0.0.1', port: 0, ssl: false, http2: false },
          { host: '127.0.0.1', port: 0, ssl: true, http2: false },
        ],
        ssl: {
          cert: server.cert,
          key: server.key,
          ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
        },
        trustedIps: '10.0.0.0/8',
      },
    )
    tlsPort = gw.listeners[1]!.port
    dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'edge.test' } })
  })
  after(async () => {
    await dispatcher.close()
    await gw.stop()
    await up.close()
    pki.close()
  })

  test('an https-only route over HTTP: 426 with Upgrade, nothing sent upstream', async () => {
    const before = up.seen.length
    const r = await call(`${gw.url}/secure/a`)
    assert.equal(r.status, 426)
    assert.equal((r.json() as { message: string }).message, 'Please use HTTPS protocol')
    assert.equal(r.headers.upgrade, 'TLS/1.2, HTTP/1.1')
    assert.equal(up.seen.length, before)
  })

  test('https_redirect_status_code: a redirect to the same URL over https', async () => {
    const r = await call(`${gw.url}/moved/x?y=1`, { headers: { host: 'shop.test' } })
    assert.equal(r.status, 308)
    assert.equal(r.headers.location, 'https://shop.test/moved/x?y=1')
  })

  test('an X-Forwarded-Proto from an untrusted peer does not make a request https', async () => {
    const r = await call(`${gw.url}/secure/a`, { headers: { 'x-forwarded-proto': 'https' } })
    assert.equal(r.status, 426)
  })

  test('over TLS the route serves, and the upstream sees the TLS listener in X-Forwarded-*', async () => {
    const res = await request(`https://127.0.0.1:${tlsPort}/secure/a`, { dispatcher })
    assert.equal(res.statusCode, 200)
    await res.body.text()
    const seen = up.seen.at(-1)!
    assert.equal(seen.headers['x-forwarded-proto'], 'https')
    assert.equal(seen.headers['x-forwarded-port'], String(tlsPort))
    const plain = await call(`${gw.url}/both`)
    assert.equal(plain.status, 200)
    assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'http')
    assert.equal(up.seen.at(-1)!.headers['x-forwarded-port'], String(gw.proxy.port))
  })
})

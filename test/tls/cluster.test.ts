import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { handshake, type Pem, Pki } from '../fixtures/certs.js'
import { type PrivateRedis, privateRedis } from '../fixtures/control-plane-redis-server.js'
import { sleep } from '../fixtures/helpers.js'

// With the Redis config store, a certificate written through one node's Admin API is served by
// the next handshake on every node (each compiles it into its runtime), without a restart.

async function eventually(check: () => Promise<boolean>, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(25)
  }
  return check()
}

describe('certificates across nodes (redis config store)', () => {
  let redis: PrivateRedis
  let pki: Pki
  let fallback: Pem
  let shop: Pem
  const nodes: AdminNode[] = []

  before(async () => {
    redis = await privateRedis()
    pki = await Pki.create()
    fallback = await pki.leaf('fallback.test')
    shop = await pki.leaf('shop.test')
    for (let i = 0; i < 2; i++) {
      nodes.push(
        await adminNode({
          configStore: 'redis',
          redisUrl: redis.url,
          keyPrefix: 'portico:',
          proxyListen: [
            { host: '127.0.0.1', port: 0, ssl: false, http2: false },
            { host: '127.0.0.1', port: 0, ssl: true, http2: true },
          ],
          ssl: {
            cert: fallback.cert,
            key: fallback.key,
            ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256',
          },
        }),
      )
    }
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await redis.close()
    pki.close()
  })

  test('a certificate added on one node is served by the other', async () => {
    const [a, b] = nodes as [AdminNode, AdminNode]
    const port = (n: AdminNode) => n.node.listeners[1]!.port
    assert.equal((await handshake(port(b), 'shop.test')).cn, 'fallback.test')
    const r = await a.req('POST', '/certificates', { ...shop, snis: ['shop.test'] })
    assert.equal(r.status, 201, r.text)
    assert.equal((await handshake(port(a), 'shop.test')).cn, 'shop.test')
    assert.ok(await eventually(async () => (await handshake(port(b), 'shop.test')).cn === 'shop.test'))
    assert.equal((await b.req('DELETE', '/certificates/shop.test')).status, 204)
    assert.ok(await eventually(async () => (await handshake(port(a), 'shop.test')).cn === 'fallback.test'))
  })
})

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { DEMO_CONFIG } from '../../src/cli/demo.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

// The demo file's services listen on 9101–9106; recording upstreams stand in for them here so the
// test shows what each service receives and never needs the fixed ports.
describe('demo gateway: request plugins', () => {
  const ups: Upstream[] = []
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    let text = readFileSync(DEMO_CONFIG, 'utf8')
    for (let i = 0; i < 6; i++) {
      const up = await upstream(`demo-${9101 + i}`)
      ups.push(up)
      text = text.replaceAll(`127.0.0.1:${9101 + i}`, `127.0.0.1:${up.port}`)
    }
    gw = await gateway(text)
  })
  after(async () => {
    await gw.stop()
    await Promise.all(ups.map((u) => u.close()))
  })

  const users = () => [ups[2]!, ups[3]!]
  const lastUsersRequest = () =>
    users()
      .flatMap((u) => u.seen)
      .filter((s) => s.url.startsWith('/users'))
      .at(-1)!

  test('/api/users: correlation id upstream and back, X-Gateway added, CORS headers', async () => {
    const r = await call(`${gw.url}/api/users`, { headers: { origin: 'https://ui.example.com' } })
    assert.equal(r.status, 200)
    const id = r.headers['x-correlation-id'] as string
    assert.match(id, /^[0-9a-f-]{36}#\d+$/)
    const seen = lastUsersRequest()
    assert.equal(seen.headers['x-correlation-id'], id)
    assert.equal(seen.headers['x-gateway'], 'portico')
    assert.equal(r.headers['access-control-allow-origin'], '*')
    assert.equal(r.headers['access-control-expose-headers'], 'X-Correlation-ID,X-Instance')
  })

  test('/api/users preflight is answered by the gateway', async () => {
    const r = await call(`${gw.url}/api/users`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ui.example.com', 'access-control-request-method': 'DELETE' },
    })
    assert.equal(r.status, 200)
    assert.equal(r.headers['access-control-max-age'], '600')
    assert.match(r.headers['access-control-allow-methods'] as string, /DELETE/)
  })

  test('inference routes refuse bodies over 1 MB and pass the others', async () => {
    const python = ups[0]!
    const ok = await call(`${gw.url}/infer/python`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"hello"}',
    })
    assert.equal(ok.status, 200)
    assert.equal(python.seen.at(-1)!.body.toString(), '{"prompt":"hello"}')
    const before = ups[1]!.seen.length
    const big = await call(`${gw.url}/infer/node`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(1024 * 1024 + 1, 'a'),
    })
    assert.equal(big.status, 413)
    assert.equal((big.json() as { message: string }).message, 'Request size limit exceeded')
    assert.equal(ups[1]!.seen.length, before)
  })
})

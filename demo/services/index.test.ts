import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { jwtVerify } from 'jose'
import { DEMO_CONSUMERS, declarativeConsumers } from '../consumers.js'
import { DEMO_SERVICE_NAMES, startDemoServices } from './index.js'

test('startDemoServices starts all seven on free ports and every one answers', async () => {
  const stack = await startDemoServices({ latency: { inferenceMs: 1, slowMs: 1 } })
  try {
    const { services } = stack
    assert.deepEqual(Object.keys(services).sort(), [...DEMO_SERVICE_NAMES].sort())
    assert.equal(new Set(Object.values(services).map((s) => s.port)).size, 7)
    for (const name of DEMO_SERVICE_NAMES) {
      const res = await fetch(`${services[name].url}/healthz`)
      assert.equal(res.status, 200, name)
      assert.equal(res.headers.get('x-instance'), name)
      await res.body?.cancel()
    }

    // the two inference instances are the two "models" of the reference gateway
    for (const [name, model] of [
      ['inference-a', 'python'],
      ['inference-b', 'node'],
    ] as const) {
      const res = await fetch(`${services[name].url}/infer`, { method: 'POST', body: '{"prompt":"ping"}' })
      const body = (await res.json()) as { model: string; instance: string }
      assert.equal(body.model, model)
      assert.equal(body.instance, name)
    }

    const u2 = await fetch(`${services['users-2'].url}/users`)
    assert.equal(u2.headers.get('x-instance'), 'users-2')
    await u2.body?.cancel()

    const slow = (await (await fetch(`${services.slow.url}/slow`)).json()) as { slow_ms: number }
    assert.equal(slow.slow_ms, 1)

    const tok = await fetch(`${services.auth.url}/token`, {
      method: 'POST',
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    })
    const { access_token } = (await tok.json()) as { access_token: string }
    const secret = new TextEncoder().encode(DEMO_CONSUMERS[0]!.jwt.secret)
    assert.equal((await jwtVerify(access_token, secret)).payload.iss, 'alice-iss')
  } finally {
    await stack.close()
    await stack.close()
  }
  await assert.rejects(fetch(`${stack.services.auth.url}/healthz`))
})

test('a taken fixed port fails the start and leaves nothing listening', async () => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const address = blocker.address()
  assert.ok(address !== null && typeof address === 'object')
  try {
    // inference-a wants basePort itself, which is taken
    await assert.rejects(startDemoServices({ basePort: address.port }), /EADDRINUSE/)
  } finally {
    await new Promise((resolve) => blocker.close(resolve))
  }
  await assert.rejects(startDemoServices({ basePort: 65_531 }), RangeError)
  await assert.rejects(startDemoServices({ basePort: -1 }), RangeError)
})

test('demo consumers are consistent and exportable as Kong declarative config', () => {
  assert.deepEqual(
    DEMO_CONSUMERS.map((c) => [c.username, c.apiKey, c.jwt.key]),
    [
      ['alice', 'alice-key', 'alice-iss'],
      ['bob', 'bob-key', 'bob-iss'],
    ],
  )
  for (const c of DEMO_CONSUMERS) assert.ok(c.jwt.secret.length >= 32, c.username)
  const [alice] = declarativeConsumers()
  assert.deepEqual(alice, {
    username: 'alice',
    custom_id: 'demo-alice',
    keyauth_credentials: [{ key: 'alice-key' }],
    jwt_secrets: [{ key: 'alice-iss', secret: DEMO_CONSUMERS[0]!.jwt.secret, algorithm: 'HS256' }],
    basicauth_credentials: [{ username: 'alice', password: 'alice-password' }],
  })
})

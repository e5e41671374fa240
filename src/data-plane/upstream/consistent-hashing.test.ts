import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createBalancer } from './balancer.js'
import { serve, type TestServer, targets, upstream, waitFor } from './fixtures.js'
import { HealthRegistry } from './health-registry.js'
import type { Balancer } from './types.js'

const registry = new HealthRegistry()
after(() => registry.close())

const KEYS = Array.from({ length: 10_000 }, (_, i) => `client-${i}`)

function mapping(b: Balancer): string[] {
  return KEYS.map((key) => b.pick({ hashKey: key })!.address)
}

/** Four targets of equal weight, the ring most tests start from. */
const four = [
  ['10.0.0.1:80', 100],
  ['10.0.0.2:80', 100],
  ['10.0.0.3:80', 100],
  ['10.0.0.4:80', 100],
] as const

function ring(list: ReadonlyArray<readonly [string, number]>): Balancer {
  const u = upstream({ algorithm: 'consistent-hashing', hash_on: 'ip' })
  return createBalancer(u, targets(u, list), registry)
}

test('the same key maps to the same target, whatever the order of the targets', () => {
  const a = ring(four)
  const b = ring([...four].reverse())
  const first = mapping(a)
  assert.deepEqual(mapping(a), first)
  assert.deepEqual(mapping(b), first)
  // and the keys spread: every target holds a fair part of them
  for (const [address] of four) {
    const share = first.filter((x) => x === address).length / KEYS.length
    assert.ok(share > 0.15 && share < 0.35, `${address} holds ${share}`)
  }
  a.close()
  b.close()
})

test('adding a fifth target moves only the keys it takes over (about a fifth)', () => {
  const before = ring(four)
  const after5 = ring([...four, ['10.0.0.5:80', 100]])
  const was = mapping(before)
  const now = mapping(after5)
  let moved = 0
  for (let i = 0; i < KEYS.length; i++) {
    if (was[i] === now[i]) continue
    moved++
    assert.equal(now[i], '10.0.0.5:80', 'a moved key may only move to the new target')
  }
  assert.ok(moved > 0.1 * KEYS.length && moved < 0.3 * KEYS.length, `moved ${moved} of ${KEYS.length}`)
  before.close()
  after5.close()
})

test('a missing key falls back to the fallback key, then to round-robin', () => {
  const b = ring([
    ['10.0.0.1:80', 100],
    ['10.0.0.2:80', 100],
  ])
  const byFallback = b.pick({ hashKey: undefined, fallbackKey: 'k' })!.address
  assert.equal(b.pick({ hashKey: 'k' })!.address, byFallback)
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add(b.pick({ hashKey: undefined })!.address)
  assert.equal(seen.size, 2)
  b.close()
})

test('a retry with the same key goes to the next target on the ring', () => {
  const b = ring([
    ['10.0.0.1:80', 100],
    ['10.0.0.2:80', 100],
    ['10.0.0.3:80', 100],
  ])
  for (const key of KEYS.slice(0, 200)) {
    const first = b.pick({ hashKey: key })!
    const retry = b.pick({ hashKey: key }, first)!
    assert.notEqual(retry.address, first.address)
    assert.equal(b.pick({ hashKey: key }, first)!.address, retry.address)
  }
  b.close()
})

test("an unhealthy target's keys go elsewhere and come back when it recovers", async () => {
  let failing = false
  const servers: TestServer[] = []
  for (let i = 0; i < 4; i++) {
    const n = i
    servers.push(
      await serve((_req, res) => {
        res.statusCode = failing && n === 0 ? 500 : 200
        res.end()
      }),
    )
  }
  const u = upstream(
    { algorithm: 'consistent-hashing', hash_on: 'header', hash_on_header: 'x-user' },
    (hc) => {
      hc.active.healthy.interval = 0.05
      hc.active.unhealthy.interval = 0.05
      hc.active.healthy.successes = 1
      hc.active.unhealthy.http_failures = 1
    },
  )
  const b = createBalancer(
    u,
    targets(
      u,
      servers.map((s) => [s.address, 100] as const),
    ),
    registry,
  )
  try {
    const sick = servers[0]!.address
    const original = mapping(b)
    assert.ok(original.includes(sick))

    failing = true
    await waitFor('the failing target to be taken out', () => b.targets[0]!.healthy === false)
    const during = mapping(b)
    for (let i = 0; i < KEYS.length; i++) {
      if (original[i] === sick) assert.notEqual(during[i], sick)
      else assert.equal(during[i], original[i], 'keys of healthy targets stay where they were')
    }

    failing = false
    await waitFor('the target to come back', () => b.targets[0]!.healthy === true)
    assert.deepEqual(mapping(b), original)
  } finally {
    b.close()
    await Promise.all(servers.map((s) => s.close()))
  }
})

import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createBalancer } from './balancer.js'
import { send, serve, type TestServer, targets, upstream } from './fixtures.js'
import { HealthRegistry } from './health-registry.js'
import type { Target } from './types.js'

const registry = new HealthRegistry()
after(() => registry.close())

test('weights 1:2:7 over 10,000 picks give each target its share', () => {
  const u = upstream()
  const b = createBalancer(
    u,
    targets(u, [
      ['a:1', 1],
      ['b:1', 2],
      ['c:1', 7],
    ]),
    registry,
  )
  const counts = new Map<string, number>()
  for (let i = 0; i < 10_000; i++) {
    const t = b.pick({ hashKey: undefined })!
    counts.set(t.address, (counts.get(t.address) ?? 0) + 1)
  }
  for (const [address, share] of [
    ['a:1', 0.1],
    ['b:1', 0.2],
    ['c:1', 0.7],
  ] as const) {
    const got = (counts.get(address) ?? 0) / 10_000
    assert.ok(Math.abs(got - share) <= share * 0.05, `${address}: ${got} vs ${share}`)
  }
  b.close()
})

/** The longest run of consecutive picks of each target over `n` picks. */
function longestRuns(weights: ReadonlyArray<readonly [string, number]>, n: number): Map<string, number> {
  const u = upstream()
  const b = createBalancer(u, targets(u, weights), registry)
  const longest = new Map<string, number>()
  let previous = ''
  let run = 0
  for (let i = 0; i < n; i++) {
    const { address } = b.pick({ hashKey: undefined })!
    run = address === previous ? run + 1 : 1
    previous = address
    longest.set(address, Math.max(longest.get(address) ?? 0, run))
  }
  b.close()
  return longest
}

test('picks are smooth: no target runs longer than its fair share in a row', () => {
  // 1:2:7 → the heavy target may not run more than ceil(7 / 3) = 3 times before another one
  // (a naive weighted round-robin would send it 7 in a row).
  const runs = longestRuns(
    [
      ['a:1', 1],
      ['b:1', 2],
      ['c:1', 7],
    ],
    1_000,
  )
  assert.deepEqual(Object.fromEntries(runs), { 'a:1': 1, 'b:1': 1, 'c:1': 3 })

  // In general smooth round-robin stays within one pick of that share (nginx's 5:1:1 gives
  // `a a b a c a a`, whose wrap-around run is 4), far from the weight itself.
  const weights = [
    ['a:1', 5],
    ['b:1', 1],
    ['c:1', 1],
    ['d:1', 13],
    ['e:1', 7],
  ] as const
  const total = weights.reduce((s, [, w]) => s + w, 0)
  const longest = longestRuns(weights, 2_000)
  for (const [address, w] of weights) {
    const fair = Math.ceil(w / (total - w))
    assert.ok((longest.get(address) ?? 0) <= fair + 1, `${address} ran ${longest.get(address)}, fair ${fair}`)
  }
  assert.ok((longest.get('a:1') ?? 0) < 5 && (longest.get('d:1') ?? 0) < 13)
})

test('weight 0 and excluded targets are skipped; the excluded one is still used when alone', () => {
  const u = upstream()
  const b = createBalancer(
    u,
    targets(u, [
      ['a:1', 10],
      ['b:1', 0],
      ['c:1', 10],
    ]),
    registry,
  )
  const seen = new Set<string>()
  for (let i = 0; i < 20; i++) seen.add(b.pick({ hashKey: undefined })!.address)
  assert.deepEqual([...seen].sort(), ['a:1', 'c:1'])

  const a = b.targets.find((t) => t.address === 'a:1')!
  for (let i = 0; i < 10; i++) assert.equal(b.pick({ hashKey: undefined }, a)?.address, 'c:1')

  const solo = upstream()
  const one = createBalancer(solo, targets(solo, [['only:1', 5]]), registry)
  const only = one.targets[0] as Target
  assert.equal(one.pick({ hashKey: undefined }, only), only)
  b.close()
  one.close()
})

test('real requests follow the weights across three servers', async () => {
  const servers: TestServer[] = []
  for (let i = 0; i < 3; i++) servers.push(await serve((_req, res) => res.end('ok')))
  try {
    const u = upstream()
    const list = servers.map((s, i) => [s.address, i === 2 ? 2 : 1] as const)
    const b = createBalancer(u, targets(u, list), registry)
    for (let i = 0; i < 40; i++) assert.equal((await send(b)).status, 200)
    assert.deepEqual(
      servers.map((s) => s.hits),
      [10, 10, 20],
    )
    b.close()
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
})

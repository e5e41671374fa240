import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, test } from 'node:test'
import { request } from 'undici'
import { createBalancer } from './balancer.js'
import { serve, targets, upstream, waitFor } from './fixtures.js'
import { HealthRegistry } from './health-registry.js'
import type { Balancer, Target } from './types.js'

const registry = new HealthRegistry()
after(() => registry.close())

/** Starts one proxied request through the balancer; resolves with its target when it is done. */
function start(b: Balancer): { target: Target; done: Promise<Target> } {
  const target = b.pick({ hashKey: undefined })!
  b.begin(target)
  const done = request(`http://${target.address}/`)
    .then((res) => res.body.dump())
    .then(() => target)
    .finally(() => b.end(target))
  return { target, done }
}

test('least-connections sends new requests to the idle target while the other is busy', async () => {
  const held: ServerResponse[] = []
  const slow = await serve((_req, res) => held.push(res))
  const fast = await serve((_req, res) => res.end('ok'))
  try {
    const u = upstream({ algorithm: 'least-connections' })
    const b = createBalancer(
      u,
      targets(u, [
        [slow.address, 100],
        [fast.address, 100],
      ]),
      registry,
    )

    // Whichever target the first request lands on, once the slow one holds a request every
    // following pick must go to the fast one, which finishes each before the next starts.
    const pending: Array<Promise<Target>> = []
    let toFast = 0
    for (let i = 0; i < 10; i++) {
      const { target, done } = start(b)
      if (target.address === fast.address) {
        toFast++
        await done
      } else pending.push(done)
    }
    assert.equal(pending.length, 1, 'only one request may wait on the busy target')
    assert.equal(toFast, 9)
    await waitFor('the slow server to hold its request', () => held.length === 1)
    assert.equal(b.targets.find((t) => t.address === slow.address)?.active, 1)

    held[0]!.end('late')
    await Promise.all(pending)
    // Both idle again: ties are broken round-robin.
    const seen = [b.pick({ hashKey: undefined })!.address, b.pick({ hashKey: undefined })!.address]
    assert.deepEqual(seen.sort(), [fast.address, slow.address].sort())
    b.close()
  } finally {
    for (const res of held) res.end()
    await Promise.all([slow.close(), fast.close()])
  }
})

test('least-connections weighs in-flight counts by weight', () => {
  const u = upstream({ algorithm: 'least-connections' })
  const b = createBalancer(
    u,
    targets(u, [
      ['heavy:1', 300],
      ['light:1', 100],
    ]),
    registry,
  )
  const [heavy, light] = b.targets as [Target, Target]
  // (active + 1) / weight: the heavy target takes three in flight before the light one's first.
  const order: string[] = []
  for (let i = 0; i < 4; i++) {
    const t = b.pick({ hashKey: undefined })!
    b.begin(t)
    order.push(t === heavy ? 'heavy' : 'light')
  }
  assert.deepEqual(order.sort(), ['heavy', 'heavy', 'heavy', 'light'])
  assert.equal(heavy.active, 3)
  assert.equal(light.active, 1)
  for (const t of [heavy, heavy, heavy, light]) b.end(t)
  assert.equal(heavy.active + light.active, 0)
  b.close()
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBalancer } from './balancer.js'
import { send, serve, targets, upstream, waitFor } from './fixtures.js'
import type { HealthChange } from './health-registry.js'
import { HealthRegistry } from './health-registry.js'
import type { Balancer, Target } from './types.js'

function passiveUpstream(httpFailures: number, successes = 0) {
  return upstream({}, (hc) => {
    hc.passive.unhealthy.http_failures = httpFailures
    hc.passive.unhealthy.tcp_failures = 2
    hc.passive.healthy.successes = successes
  })
}

function byAddress(b: Balancer, address: string): Target {
  return b.targets.find((t) => t.address === address)!
}

test('consecutive failures take a target out; after the cool-down a success brings it back', async () => {
  let broken = true
  const flaky = await serve((_req, res) => {
    res.statusCode = broken ? 500 : 200
    res.end()
  })
  const good = await serve((_req, res) => res.end('ok'))
  const registry = new HealthRegistry({ passiveCooldownMs: 1_500 })
  const changes: HealthChange[] = []
  registry.onChange((c) => changes.push(c))
  const u = passiveUpstream(3)
  const b = createBalancer(
    u,
    targets(u, [
      [flaky.address, 100],
      [good.address, 100],
    ]),
    registry,
  )
  try {
    // Round-robin alternates, so six requests reach the flaky server three times in a row.
    for (let i = 0; i < 6; i++) await send(b)
    assert.equal(flaky.hits, 3)
    assert.equal(byAddress(b, flaky.address).healthy, false)
    assert.deepEqual(
      b.describe().targets.map((t) => t.health),
      ['UNHEALTHY', 'HEALTHY'],
    )
    assert.equal(changes.at(-1)?.healthy, false)
    assert.equal(changes.at(-1)?.cause, 'passive')

    // Picks avoid it while it cools down…
    for (let i = 0; i < 5; i++) assert.equal(b.pick({ hashKey: undefined })?.address, good.address)

    // …then it is tried again (a retry that excludes the good target shows when it may be);
    // fixed, its first success brings it back.
    broken = false
    const other = byAddress(b, good.address)
    await waitFor(
      'the cool-down to end',
      () => b.pick({ hashKey: undefined }, other)?.address === flaky.address,
    )
    const trial = await send(b, { exclude: other })
    assert.equal(trial.target?.address, flaky.address)
    assert.equal(trial.status, 200)
    assert.equal(byAddress(b, flaky.address).healthy, true)
    assert.equal(changes.at(-1)?.healthy, true)
    assert.deepEqual(
      b.describe().targets.map((t) => t.health),
      ['HEALTHY', 'HEALTHY'],
    )
  } finally {
    b.close()
    registry.close()
    await Promise.all([flaky.close(), good.close()])
  }
})

test('a success between failures resets the count; statuses outside both lists do not count', () => {
  const registry = new HealthRegistry()
  const u = passiveUpstream(3)
  const b = createBalancer(u, targets(u, [['10.0.0.1:80', 100]]), registry)
  const t = b.targets[0]!
  for (let round = 0; round < 5; round++) {
    b.report(t, 'success', 500)
    b.report(t, 'http_failure', 503)
    b.report(t, 'success', 404)
    b.report(t, 'success', 200)
  }
  assert.equal(t.healthy, true)
  b.report(t, 'success', 500)
  b.report(t, 'success', 404)
  b.report(t, 'success', 429)
  assert.equal(t.healthy, true)
  b.report(t, 'success', 503)
  assert.equal(t.healthy, false)
  b.close()
  registry.close()
})

test('a failed trial starts another cool-down; successes=2 needs two trial successes', async () => {
  const registry = new HealthRegistry({ passiveCooldownMs: 1_000 })
  const u = passiveUpstream(1, 2)
  const b = createBalancer(
    u,
    targets(u, [
      ['10.0.0.1:80', 100],
      ['10.0.0.2:80', 100],
    ]),
    registry,
  )
  const sick = b.targets[0]!
  b.report(sick, 'http_failure', 500)
  assert.equal(sick.healthy, false)
  const pickedSick = () => b.pick({ hashKey: undefined }, b.targets[1]) === sick

  await waitFor('the first trial', pickedSick)
  b.report(sick, 'http_failure', 500)
  assert.equal(pickedSick(), false, 'a failed trial closes it again')

  await waitFor('the second trial', pickedSick)
  b.report(sick, 'success', 200)
  assert.equal(sick.healthy, false, 'one success of two')
  b.report(sick, 'success', 200)
  assert.equal(sick.healthy, true)
  b.close()
  registry.close()
})

test('a closed server is taken out after tcp_failures connection errors; counters of 0 never trip', async () => {
  const gone = await serve((_req, res) => res.end())
  await gone.close()
  const registry = new HealthRegistry({ passiveCooldownMs: 60_000 })
  const u = passiveUpstream(0)
  const b = createBalancer(u, targets(u, [[gone.address, 100]]), registry)
  const t = b.targets[0]!
  for (let i = 0; i < 10; i++) b.report(t, 'http_failure', 500)
  for (let i = 0; i < 10; i++) b.report(t, 'timeout')
  assert.equal(t.healthy, true, 'http_failures and timeouts are 0: off')

  assert.equal((await send(b)).status, undefined)
  assert.equal(t.healthy, true)
  assert.equal((await send(b)).status, undefined)
  assert.equal(t.healthy, false)
  assert.equal(b.pick({ hashKey: undefined }), undefined, 'no healthy target')
  assert.equal(b.describe().healthy, false)
  b.close()
  registry.close()
})

test("a cool-down of Infinity (Kong's behaviour) or past the timer range never reopens by itself", async () => {
  for (const passiveCooldownMs of [Number.POSITIVE_INFINITY, 3_000_000_000]) {
    const registry = new HealthRegistry({ passiveCooldownMs })
    const u = passiveUpstream(1)
    const b = createBalancer(
      u,
      targets(u, [
        ['10.0.0.1:80', 100],
        ['10.0.0.2:80', 100],
      ]),
      registry,
    )
    b.report(b.targets[0]!, 'http_failure', 500)
    await new Promise((r) => setTimeout(r, 100))
    for (let i = 0; i < 4; i++) assert.equal(b.pick({ hashKey: undefined })?.address, '10.0.0.2:80')
    b.close()
    registry.close()
  }
})

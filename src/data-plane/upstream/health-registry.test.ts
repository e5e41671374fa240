import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBalancer, singleTargetBalancer } from './balancer.js'
import { send, serve, targets, upstream, waitFor } from './fixtures.js'
import { HealthRegistry } from './health-registry.js'

const passive = upstream({}, (hc) => {
  hc.passive.unhealthy.http_failures = 1
})
const list = targets(passive, [
  ['10.0.0.1:80', 100],
  ['10.0.0.2:80', 100],
])

test('health and in-flight counts survive building a new balancer for the same upstream', () => {
  const registry = new HealthRegistry({ passiveCooldownMs: 60_000 })
  const old = createBalancer(passive, list, registry)
  old.report(old.targets[0]!, 'http_failure', 500)
  old.begin(old.targets[1]!)

  // New config first, then the old one is closed (the runtime's swap order)…
  const next = createBalancer({ ...passive }, list, registry)
  assert.equal(next.targets[0]!.healthy, false)
  assert.equal(next.targets[1]!.active, 1)
  old.close()
  // …and a request that started on the old config still ends on the shared count.
  old.end(old.targets[1]!)
  assert.equal(next.targets[1]!.active, 0)
  assert.equal(next.pick({ hashKey: undefined })?.address, '10.0.0.2:80')

  // Closing first and rebuilding afterwards keeps the state too.
  next.close()
  const third = createBalancer(passive, list, registry)
  assert.equal(third.targets[0]!.healthy, false)
  assert.equal(registry.state(passive.id, '10.0.0.1:80')?.cause, 'passive')
  third.close()
  registry.close()
})

test('state of targets no balancer uses is forgotten after the retention time', async () => {
  const registry = new HealthRegistry({ passiveCooldownMs: 60_000, retainMs: 50 })
  const b = createBalancer(passive, list, registry)
  b.report(b.targets[0]!, 'http_failure', 500)
  b.close()
  await new Promise((r) => setTimeout(r, 100))
  const fresh = createBalancer(passive, list, registry)
  assert.equal(fresh.targets[0]!.healthy, true)
  fresh.close()
  registry.close()
})

test('describe() says HEALTHCHECKS_OFF without checks, and checks turned off clear old verdicts', () => {
  const registry = new HealthRegistry({ passiveCooldownMs: 60_000 })
  const b = createBalancer(passive, list, registry)
  b.report(b.targets[0]!, 'http_failure', 500)
  b.close()

  const off = { ...passive, healthchecks: upstream().healthchecks }
  const plain = createBalancer(off, list, registry)
  assert.deepEqual(plain.describe(), {
    name: passive.name,
    healthy: true,
    targets: [
      { target: '10.0.0.1:80', weight: 100, health: 'HEALTHCHECKS_OFF' },
      { target: '10.0.0.2:80', weight: 100, health: 'HEALTHCHECKS_OFF' },
    ],
  })
  plain.report(plain.targets[0]!, 'tcp_failure')
  const seen = new Set([
    plain.pick({ hashKey: undefined })?.address,
    plain.pick({ hashKey: undefined })?.address,
  ])
  assert.equal(seen.size, 2)
  plain.close()
  registry.close()
})

test('below the threshold percentage of healthy weight the upstream takes no requests', () => {
  const registry = new HealthRegistry({ passiveCooldownMs: 60_000 })
  const u = upstream({}, (hc) => {
    hc.passive.unhealthy.http_failures = 1
    hc.threshold = 50
  })
  const b = createBalancer(
    u,
    targets(u, [
      ['a:1', 30],
      ['b:1', 30],
      ['c:1', 40],
    ]),
    registry,
  )
  b.report(b.targets[0]!, 'http_failure', 500)
  assert.equal(b.describe().healthy, true, '70 % left')
  assert.ok(b.pick({ hashKey: undefined }))
  b.report(b.targets[1]!, 'http_failure', 500)
  assert.equal(b.describe().healthy, false, '40 % left, under 50 %')
  assert.equal(b.pick({ hashKey: undefined }), undefined)
  b.close()
  registry.close()
})

test('a plain host is always picked and its connection failures only show in describe()', async () => {
  const server = await serve((_req, res) => res.end('ok'))
  const registry = new HealthRegistry()
  const b = singleTargetBalancer('127.0.0.1', server.port, { registry, tcpFailures: 2 })
  try {
    assert.equal((await send(b)).status, 200)
    assert.deepEqual(b.describe(), {
      name: server.address,
      healthy: true,
      targets: [{ target: server.address, weight: 100, health: 'HEALTHY' }],
    })
    await server.close()
    for (let i = 0; i < 2; i++) assert.equal((await send(b)).status, undefined)
    assert.equal(b.describe().healthy, false)
    assert.equal(b.describe().targets[0]!.health, 'UNHEALTHY')
    const target = b.pick({ hashKey: undefined })
    assert.equal(target?.address, server.address)
    assert.equal(b.pick({ hashKey: undefined }, target), target)
    // Any HTTP answer, even a 404, shows it reachable again.
    b.report(target!, 'success', 404)
    assert.equal(b.describe().healthy, true)
  } finally {
    b.close()
    registry.close()
  }
})

test('each upstream is probed by its newest live balancer only', async () => {
  const seen: string[] = []
  const server = await serve((req, res) => {
    seen.push(req.url ?? '')
    res.end()
  })
  const registry = new HealthRegistry()
  const u = upstream({}, (hc) => {
    hc.active.healthy.interval = 0.05
  })
  const config = (path: string) => ({
    ...u,
    healthchecks: { ...u.healthchecks, active: { ...u.healthchecks.active, http_path: path } },
  })
  const one = targets(u, [[server.address, 100]])
  const probesTo = (path: string, from: number) => seen.slice(from).filter((p) => p === path).length
  const first = createBalancer(config('/old'), one, registry)
  try {
    await waitFor('the first config to probe', () => probesTo('/old', 0) >= 2)
    const second = createBalancer(config('/new'), one, registry)
    await waitFor('the new config to probe', () => probesTo('/new', 0) >= 2)
    // From the second /new probe on, the old config's checks are gone.
    const mark = seen.indexOf('/new') + 1
    await waitFor('more probes', () => probesTo('/new', mark) >= 3)
    assert.equal(probesTo('/old', mark), 0)

    // Closing the newest hands the checks back to the one still alive.
    second.close()
    const back = seen.length
    await waitFor('the old config to probe again', () => probesTo('/old', back) >= 2)
    first.close()
  } finally {
    registry.close()
    await server.close()
  }
})

test('a throwing listener neither breaks reports nor stops the others', () => {
  const registry = new HealthRegistry({ passiveCooldownMs: 60_000 })
  const heard: boolean[] = []
  registry.onChange(() => {
    throw new Error('broken hook')
  })
  const off = registry.onChange((c) => heard.push(c.healthy))
  const b = createBalancer(passive, list, registry)
  b.report(b.targets[0]!, 'http_failure', 500)
  assert.equal(b.targets[0]!.healthy, false)
  assert.deepEqual(heard, [false])
  off()
  b.report(b.targets[1]!, 'http_failure', 500)
  assert.deepEqual(heard, [false])
  b.close()
  registry.close()
})

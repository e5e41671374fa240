import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import type { UpstreamEntity } from '../../core/entities.js'
import { createBalancer } from './balancer.js'
import { serve, type TestServer, targets, upstream, waitFor } from './fixtures.js'
import { HealthRegistry } from './health-registry.js'
import type { Balancer } from './types.js'

function activeUpstream(tune?: (hc: UpstreamEntity['healthchecks']) => void): UpstreamEntity {
  return upstream({}, (hc) => {
    hc.active.http_path = '/status'
    hc.active.timeout = 1
    hc.active.healthy.interval = 0.05
    hc.active.unhealthy.interval = 0.05
    hc.active.healthy.successes = 2
    hc.active.unhealthy.http_failures = 2
    hc.active.unhealthy.tcp_failures = 1
    hc.active.unhealthy.timeouts = 1
    tune?.(hc)
  })
}

/** A balancer with active checks over `servers` (weight 100 each), and the registry it reports to. */
function checked(
  servers: readonly TestServer[],
  tune?: (hc: UpstreamEntity['healthchecks']) => void,
): { registry: HealthRegistry; u: UpstreamEntity; b: Balancer } {
  const registry = new HealthRegistry()
  const u = activeUpstream(tune)
  const b = createBalancer(
    u,
    targets(
      u,
      servers.map((s) => [s.address, 100] as const),
    ),
    registry,
  )
  return { registry, u, b }
}

/** Two real servers whose health endpoint answers `status[i]`; anything else answers 200. */
async function pair(status: number[]): Promise<{ servers: TestServer[]; paths: string[] }> {
  const paths: string[] = []
  const servers: TestServer[] = []
  for (let i = 0; i < 2; i++) {
    servers.push(
      await serve((req, res) => {
        paths.push(req.url ?? '')
        res.statusCode = req.url === '/status' ? status[i]! : 200
        res.end()
      }),
    )
  }
  return { servers, paths }
}

const health = (b: Balancer) => b.describe().targets.map((t) => t.health)

test('a target answering 500 goes UNHEALTHY, and HEALTHY again once fixed', async () => {
  const status = [200, 200]
  const { servers, paths } = await pair(status)
  const { registry, b } = checked(servers)
  try {
    await waitFor('probes to reach both servers', () => servers.every((s) => s.hits >= 2))
    assert.ok(paths.every((p) => p === '/status'))
    assert.deepEqual(health(b), ['HEALTHY', 'HEALTHY'])

    status[0] = 500
    await waitFor('the failing server to be UNHEALTHY', () => health(b)[0] === 'UNHEALTHY')
    for (let i = 0; i < 5; i++) assert.equal(b.pick({ hashKey: undefined })?.address, servers[1]!.address)
    assert.equal(b.describe().healthy, true)

    status[0] = 200
    await waitFor('the fixed server to be HEALTHY', () => health(b)[0] === 'HEALTHY')
    const seen = new Set([b.pick({ hashKey: undefined })?.address, b.pick({ hashKey: undefined })?.address])
    assert.equal(seen.size, 2)
  } finally {
    b.close()
    registry.close()
    await Promise.all(servers.map((s) => s.close()))
  }
})

test('a closed server fails by tcp; with all targets down pick() returns undefined', async () => {
  const { servers } = await pair([200, 200])
  const { registry, u, b } = checked(servers)
  try {
    await servers[0]!.close()
    await waitFor('the closed server to be UNHEALTHY', () => health(b)[0] === 'UNHEALTHY')
    assert.equal(registry.state(u.id, servers[0]!.address)?.cause, 'active')
    assert.equal(b.pick({ hashKey: undefined })?.address, servers[1]!.address)

    await servers[1]!.close()
    await waitFor('both to be UNHEALTHY', () => health(b)[1] === 'UNHEALTHY')
    assert.equal(b.pick({ hashKey: undefined }), undefined)
    assert.equal(b.describe().healthy, false)
  } finally {
    b.close()
    registry.close()
  }
})

test('a probe that gets no answer within the timeout counts as a timeout', async () => {
  const held: ServerResponse[] = []
  const mute = await serve((_req, res) => held.push(res))
  const registry = new HealthRegistry()
  const u = activeUpstream((hc) => {
    hc.active.timeout = 0.2
  })
  const b = createBalancer(u, targets(u, [[mute.address, 100]]), registry)
  try {
    await waitFor('the silent server to be UNHEALTHY', () => health(b)[0] === 'UNHEALTHY')
    assert.equal(b.pick({ hashKey: undefined }), undefined)
  } finally {
    b.close()
    registry.close()
    for (const res of held) res.end()
    await mute.close()
  }
})

test('tcp checks connect only; close() stops every probe', async () => {
  const { servers } = await pair([500, 500])
  const { registry, b } = checked(servers, (hc) => {
    hc.active.type = 'tcp'
  })
  try {
    // A tcp check opens and closes a connection: the server sees no request, and a listening
    // server counts as healthy whatever its HTTP answers would be.
    let connections = 0
    servers[0]!.server.on('connection', () => connections++)
    await waitFor('tcp probes to connect', () => connections >= 3)
    assert.equal(servers[0]!.hits, 0)
    assert.deepEqual(health(b), ['HEALTHY', 'HEALTHY'])

    b.close()
    const seen = connections
    await new Promise((r) => setTimeout(r, 300))
    const settled = connections
    await new Promise((r) => setTimeout(r, 300))
    assert.ok(settled - seen <= 1, 'at most the probe already under way')
    assert.equal(connections, settled, 'no probe after close()')
  } finally {
    registry.close()
    await Promise.all(servers.map((s) => s.close()))
  }
})

test('only unhealthy targets are probed when healthy.interval is 0', async () => {
  const { servers } = await pair([200, 200])
  const { registry, b } = checked(servers, (hc) => {
    hc.active.healthy.interval = 0
    hc.passive.unhealthy.http_failures = 1
  })
  try {
    await new Promise((r) => setTimeout(r, 300))
    assert.deepEqual(
      servers.map((s) => s.hits),
      [0, 0],
    )
    // Taken out passively; the unhealthy-interval probes bring it back (no cool-down needed).
    b.report(b.targets[0]!, 'success', 500)
    assert.deepEqual(health(b), ['UNHEALTHY', 'HEALTHY'])
    await waitFor('probes to bring it back', () => health(b)[0] === 'HEALTHY')
    assert.ok(servers[0]!.hits >= 2)
    assert.equal(servers[1]!.hits, 0)
  } finally {
    b.close()
    registry.close()
    await Promise.all(servers.map((s) => s.close()))
  }
})

test('probes send the configured headers, and upstream.host_header as Host', async () => {
  const seen: Array<{ host: string | undefined; token: string | string[] | undefined }> = []
  const server = await serve((req, res) => {
    seen.push({ host: req.headers.host, token: req.headers['x-probe'] })
    res.end()
  })
  const registry = new HealthRegistry()
  const u = activeUpstream((hc) => {
    hc.active.headers = { 'x-probe': ['yes'] }
  })
  u.host_header = 'api.internal'
  const b = createBalancer(u, targets(u, [[server.address, 100]]), registry)
  try {
    await waitFor('a probe', () => seen.length >= 1)
    assert.deepEqual(seen[0], { host: 'api.internal', token: 'yes' })
  } finally {
    b.close()
    registry.close()
    await server.close()
  }
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { adminSuite } from '../fixtures/admin-helpers.js'
import { call } from '../fixtures/helpers.js'

describe('Admin API: upstreams and targets', () => {
  const s = adminSuite()

  test("an upstream with Kong's defaults; an IP as name is refused", async () => {
    const res = await s.a.req('POST', '/upstreams', { name: 'example_upstream' }, { form: true })
    assert.equal(res.status, 201)
    assert.deepEqual([res.body.algorithm, res.body.slots, res.body.hash_on], ['round-robin', 10000, 'none'])
    const ip = await s.a.req('POST', '/upstreams', { name: '10.0.0.1' })
    assert.equal(ip.status, 400)
    assert.deepEqual(ip.body.fields, { name: 'Invalid name; no ip addresses allowed' })
  })

  test('targets: weights as numbers from forms, port 8000 by default, unique per upstream, addressable by host:port', async () => {
    await s.a.req('POST', '/upstreams', { name: 'targets.up' })
    const t = await s.a.req('POST', '/upstreams/targets.up/targets', [
      ['target', '10.0.0.5'],
      ['weight', '50'],
    ])
    assert.equal(t.status, 201)
    assert.deepEqual([t.body.target, t.body.weight], ['10.0.0.5:8000', 50])
    const dup = await s.a.req('POST', '/upstreams/targets.up/targets', { target: '10.0.0.5:8000' })
    assert.equal(dup.status, 409)
    assert.equal((await s.a.req('GET', '/upstreams/targets.up/targets/10.0.0.5:8000')).body.id, t.body.id)
    const patched = await s.a.req('PATCH', `/upstreams/targets.up/targets/${t.body.id}`, { weight: 0 })
    assert.equal(patched.body.weight, 0)
    const all = await s.a.req('GET', '/upstreams/targets.up/targets/all')
    assert.equal((all.body.data as unknown[]).length, 1)
    assert.equal((await s.a.req('POST', '/upstreams/nope/targets', { target: 'x:1' })).status, 404)
    assert.equal((await s.a.req('DELETE', '/upstreams/targets.up/targets/10.0.0.5:8000')).status, 204)
    assert.equal((await s.a.req('GET', '/upstreams/targets.up/targets')).text, '{"data":[],"next":null}')
  })

  test('PATCH healthchecks merges the nested records', async () => {
    await s.a.req('POST', '/upstreams', { name: 'hc.up' })
    const res = await s.a.req('PATCH', '/upstreams/hc.up', [
      ['healthchecks.active.http_path', '/health'],
      ['healthchecks.active.healthy.interval', '5'],
    ])
    assert.equal(res.status, 200)
    const active = (res.body.healthchecks as { active: Record<string, unknown> }).active
    assert.equal(active.http_path, '/health')
    assert.deepEqual(active.healthy, { interval: 5, successes: 0, http_statuses: [200, 302] })
    assert.equal(active.timeout, 1)
  })

  test("Kong's load-balancing guide: a service on an upstream spreads requests over its targets", async () => {
    await s.a.req('POST', '/upstreams', { name: 'lb_upstream' }, { form: true })
    await s.a.req(
      'POST',
      '/upstreams/lb_upstream/targets',
      { target: `127.0.0.1:${s.one.port}` },
      { form: true },
    )
    await s.a.req(
      'POST',
      '/upstreams/lb_upstream/targets',
      { target: `127.0.0.1:${s.two.port}` },
      { form: true },
    )
    await s.a.req(
      'POST',
      '/services',
      { name: 'lb_service', url: `http://127.0.0.1:${s.one.port}` },
      { form: true },
    )
    await s.a.req('POST', '/services/lb_service/routes', [['paths[]', '/lb']])
    await s.a.req('PATCH', '/services/lb_service', { host: 'lb_upstream' }, { form: true })
    const seen = new Set<string>()
    for (let i = 0; i < 8; i++) seen.add(String((await call(`${s.a.proxy}/lb`)).headers['x-upstream']))
    assert.deepEqual([...seen].sort(), ['one', 'two'])
    const health = await s.a.req('GET', '/upstreams/lb_upstream/health')
    assert.equal(health.status, 200)
    const data = health.body.data as Array<{ target: string; health: string }>
    assert.equal(data.length, 2)
    assert.ok(data.every((t) => t.health === 'HEALTHCHECKS_OFF' || t.health === 'HEALTHY'))
    assert.equal((await s.a.req('GET', '/upstreams/nope/health')).status, 404)
  })

  test('deleting an upstream deletes its targets', async () => {
    await s.a.req('POST', '/upstreams', { name: 'doomed.up' })
    const t = await s.a.req('POST', '/upstreams/doomed.up/targets', { target: '10.1.1.1:80' })
    assert.equal((await s.a.req('DELETE', '/upstreams/doomed.up')).status, 204)
    const again = await s.a.req('POST', '/upstreams', { name: 'doomed.up' })
    assert.equal((await s.a.req('GET', `/upstreams/${again.body.id}/targets/${t.body.id}`)).status, 404)
    const exported = (await s.a.req('GET', '/config?format=json')).body
    assert.ok(!JSON.stringify(exported).includes(String(t.body.id)))
  })
  test('manual health: 400 without health checks; the {address} form names the target itself', async () => {
    await s.a.req('POST', '/upstreams', { name: 'unchecked.up' })
    await s.a.req('POST', '/upstreams/unchecked.up/targets', { target: '10.0.0.7:80' })
    const off = await s.a.req('PUT', '/upstreams/unchecked.up/targets/10.0.0.7:80/unhealthy')
    assert.equal(off.status, 400)
    assert.deepEqual(off.body, { message: 'no healthchecker found for unchecked.up' })

    await s.a.req('POST', '/upstreams', {
      name: 'checked.up',
      healthchecks: { passive: { unhealthy: { tcp_failures: 1 } } },
    })
    const t = await s.a.req('POST', '/upstreams/checked.up/targets', { target: '10.20.30.40' })
    const health = async () =>
      ((await s.a.req('GET', '/upstreams/checked.up/health')).body.data as Array<{ health: string }>)[0]
        ?.health
    // Kong's 15-off spec: the target's own IP, without a port (8000, as the target's)
    const down = await s.a.req('PUT', `/upstreams/checked.up/targets/${t.body.id}/10.20.30.40/unhealthy`)
    assert.equal(down.status, 204, down.text)
    assert.equal(await health(), 'UNHEALTHY')
    const other = await s.a.req('PUT', '/upstreams/checked.up/targets/10.20.30.40:8000/10.9.9.9/healthy')
    assert.equal(other.status, 400)
    assert.equal(await health(), 'UNHEALTHY')
    assert.equal((await s.a.req('PUT', '/upstreams/checked.up/targets/10.20.30.40:8000/healthy')).status, 204)
    assert.equal(await health(), 'HEALTHY')
    assert.equal(
      (await s.a.req('POST', '/upstreams/checked.up/targets/10.20.30.40:8000/healthy')).status,
      405,
    )
  })
})

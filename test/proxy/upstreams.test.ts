import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { Pool } from 'undici'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

/** Sends n GETs over a keep-alive pool with bounded concurrency; counts answers by upstream name. */
async function spread(url: string, n: number, headers?: (i: number) => Record<string, string>) {
  const u = new URL(url)
  const pool = new Pool(u.origin, { connections: 16 })
  const counts: Record<string, number> = {}
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const r = await pool.request({ path: u.pathname, method: 'GET', headers: headers?.(i) })
      const body = await r.body.text()
      const name =
        r.statusCode === 200 ? (JSON.parse(body) as { name: string }).name : `status-${r.statusCode}`
      counts[name] = (counts[name] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  await pool.close()
  return counts
}

describe('upstreams through the gateway', () => {
  const ups: Upstream[] = []
  let gw: Awaited<ReturnType<typeof gateway>>
  let flaky: Upstream
  let flakyFailing = false
  let checked: Upstream
  let checkedHealthy = true

  const config = (extraTarget: boolean) => `
_format_version: "3.0"
services:
  - name: weighted
    host: weighted.up
    routes: [{ name: weighted, paths: [/w] }]
  - name: hashed
    host: hashed.up
    routes: [{ name: hashed, paths: [/h] }]
  - name: passive
    host: passive.up
    retries: 0
    routes: [{ name: passive, paths: [/p] }]
  - name: active
    host: active.up
    routes: [{ name: active, paths: [/a] }]
upstreams:
  - name: weighted.up
    targets:
      - { target: 127.0.0.1:${ups[0]!.port}, weight: 10 }
      - { target: 127.0.0.1:${ups[1]!.port}, weight: 30 }
      - { target: 127.0.0.1:${ups[2]!.port}, weight: 60 }
  - name: hashed.up
    algorithm: consistent-hashing
    hash_on: header
    hash_on_header: x-client
    targets:
      - { target: 127.0.0.1:${ups[0]!.port} }
      - { target: 127.0.0.1:${ups[1]!.port} }
      - { target: 127.0.0.1:${ups[2]!.port} }
      - { target: 127.0.0.1:${ups[3]!.port} }
${extraTarget ? `      - { target: 127.0.0.1:${ups[4]!.port} }` : ''}
  - name: passive.up
    healthchecks:
      passive:
        unhealthy: { http_failures: 3, http_statuses: [500] }
    targets:
      - { target: 127.0.0.1:${flaky.port} }
      - { target: 127.0.0.1:${ups[0]!.port} }
  - name: active.up
    healthchecks:
      active:
        http_path: /health
        timeout: 0.5
        healthy: { interval: 0.1, successes: 2 }
        unhealthy: { interval: 0.1, http_failures: 2, tcp_failures: 2, timeouts: 2 }
    targets:
      - { target: 127.0.0.1:${checked.port} }
`

  before(async () => {
    for (const n of ['u0', 'u1', 'u2', 'u3', 'u4']) ups.push(await upstream(n))
    flaky = await upstream('flaky', (_req, res) => {
      res.writeHead(flakyFailing ? 500 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ name: 'flaky' }))
    })
    checked = await upstream('checked', (_req, res) => {
      res.writeHead(checkedHealthy ? 200 : 500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ name: 'checked' }))
    })
    gw = await gateway(config(false))
  })
  after(async () => {
    await gw.stop()
    await Promise.all([...ups, flaky, checked].map((u) => u.close()))
  })

  test('weighted round-robin: 10,000 requests land within 5 % of the weights', async () => {
    const counts = await spread(`${gw.url}/w`, 10_000)
    const expected = { u0: 0.1, u1: 0.3, u2: 0.6 }
    for (const [name, share] of Object.entries(expected)) {
      const got = (counts[name] ?? 0) / 10_000
      assert.ok(Math.abs(got - share) <= share * 0.05, `${name}: ${got} vs ${share}`)
    }
  })

  test('consistent hashing: stable per key, and adding a target moves few keys', async () => {
    const keys = 2000
    const header = (i: number) => ({ 'x-client': `client-${i}` })
    const mapOf = async () => {
      const m = new Map<number, string>()
      for (let i = 0; i < keys; i += 1) {
        const r = await call(`${gw.url}/h`, { headers: header(i) })
        m.set(i, (r.json() as { name: string }).name)
      }
      return m
    }
    const first = await mapOf()
    const again = await mapOf()
    assert.deepEqual([...again], [...first], 'same key → same target')
    writeFileSync(gw.file!, config(true))
    const reloaded = await gw.reload()
    assert.equal(reloaded.ok, true)
    const after5 = await mapOf()
    let moved = 0
    for (const [k, v] of first) if (after5.get(k) !== v) moved++
    const movedToNew = [...after5.values()].filter((v) => v === 'u4').length
    assert.equal(moved, movedToNew, 'keys only move to the new target')
    assert.ok(moved / keys < 0.3, `moved ${moved} of ${keys}`)
    assert.ok(moved > 0, 'the new target takes some keys')
  })

  test('passive health: consecutive failures take a target out', async () => {
    flakyFailing = true
    const counts = await spread(`${gw.url}/p`, 60)
    assert.ok((counts['status-500'] ?? 0) <= 3, `500s seen: ${counts['status-500']}`)
    assert.ok((counts.u0 ?? 0) >= 55)
    const health = (await call(`http://127.0.0.1:${gw.status!.port}/healthz`)).json() as {
      upstreams: Array<{ name: string; targets: Array<{ target: string; health: string }> }>
    }
    const passive = health.upstreams.find((u) => u.name === 'passive.up')!
    assert.equal(passive.targets.find((t) => t.target.endsWith(`:${flaky.port}`))!.health, 'UNHEALTHY')
    flakyFailing = false
  })

  test('active health: a failing target goes UNHEALTHY (503), and comes back', async () => {
    const state = async () => {
      const h = (await call(`http://127.0.0.1:${gw.status!.port}/healthz`)).json() as {
        upstreams: Array<{ name: string; targets: Array<{ health: string }> }>
      }
      return h.upstreams.find((u) => u.name === 'active.up')!.targets[0]!.health
    }
    const waitFor = async (want: string) => {
      for (let i = 0; i < 100 && (await state()) !== want; i++) await sleep(50)
      return state()
    }
    assert.equal(await waitFor('HEALTHY'), 'HEALTHY')
    checkedHealthy = false
    assert.equal(await waitFor('UNHEALTHY'), 'UNHEALTHY')
    const r = await call(`${gw.url}/a`)
    assert.equal(r.status, 503)
    assert.equal((r.json() as { message: string }).message, 'failure to get a peer from the ring-balancer')
    checkedHealthy = true
    assert.equal(await waitFor('HEALTHY'), 'HEALTHY')
    assert.equal((await call(`${gw.url}/a`)).status, 200)
  })
})

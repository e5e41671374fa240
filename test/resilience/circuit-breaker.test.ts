import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { samples, value } from '../fixtures/metrics-text.js'
import {
  admin,
  breakers,
  call,
  eventually,
  gateway,
  healthz,
  metrics,
  type Switchable,
  sleep,
  statuses,
  switchable,
} from './helpers.js'

const PLUGIN_ID = '6f1e1c8a-0000-4000-8000-00000000cb01'
const ADMIN = { admin: { host: '127.0.0.1', port: 0 } }

/** One service `s` at `url` on route /r with a service-scoped breaker. */
function oneBreaker(url: string, config: string, service = ''): string {
  return `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    retries: 0
${service}    routes: [{ name: r, paths: [/r] }]
plugins:
  - id: ${PLUGIN_ID}
    name: circuit-breaker
    service: s
    config: { ${config} }
`
}

const FAST =
  'minimum_calls: 4, failure_rate_threshold: 50, open_seconds: 0.5, max_open_seconds: 2, half_open_calls: 2'

describe('circuit-breaker, local policy', () => {
  let up: Switchable
  before(async () => {
    up = await switchable('up')
  })
  after(async () => {
    await up.close()
  })

  test('closed → open → half-open → open (doubled) → half-open → closed, with fast failures and Retry-After', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'portico-cb-')), 'access.log')
    const gw = await gateway(oneBreaker(up.url, FAST), { ...ADMIN, accessLog: log })
    try {
      up.status = 500
      up.calls = 0
      assert.deepEqual(await statuses(`${gw.url}/r`, 4), [500, 500, 500, 500])
      assert.equal(up.calls, 4)
      const fast = await call(`${gw.url}/r`)
      assert.equal(fast.status, 503)
      assert.equal(fast.headers['retry-after'], '1')
      assert.match(String((fast.json() as { message: string }).message), /circuit breaker is open/)
      assert.equal(up.calls, 4, 'no upstream call while open')
      let [b] = await breakers(gw)
      assert.equal(b!.state, 'open')
      assert.equal(b!.id, `${PLUGIN_ID}@${gw.gateway.runtime.document.services[0]!.id}`)
      assert.equal(b!.counters.rejected, 1)
      // the status listener's /healthz shows it too
      assert.equal((await healthz(gw)).circuit_breakers[0]!.state, 'open')

      // open period over, the upstream still failing: the trial fails, open for twice as long
      await sleep(600)
      assert.equal((await call(`${gw.url}/r`)).status, 500)
      ;[b] = await breakers(gw)
      assert.equal(b!.state, 'open')
      assert.equal(b!.open_seconds, 1)
      assert.equal((await call(`${gw.url}/r`)).status, 503)

      // healed: two trials succeed, closed
      up.status = 200
      await sleep(1100)
      assert.deepEqual(await statuses(`${gw.url}/r`, 3), [200, 200, 200])
      ;[b] = await breakers(gw)
      assert.equal(b!.state, 'closed')
      assert.deepEqual(b!.transitions, {
        'closed>open': 1,
        'open>half_open': 2,
        'half_open>open': 1,
        'half_open>closed': 1,
      })
      assert.equal(b!.open_seconds, 0.5, 'closing resets the open period')

      const m = await metrics(gw)
      const verdict = (v: string) => value(m, 'portico_circuit_breaker_requests_total', { verdict: v })
      assert.equal(verdict('rejected'), 2)
      assert.equal(verdict('trial'), 3)
      const states = samples(m, 'portico_circuit_breaker_state', { breaker: b!.id, state: 'closed' })
      assert.equal(states[0]?.value, 1)
      const opened = samples(m, 'portico_circuit_breaker_transitions_total', { from: 'closed', to: 'open' })
      assert.equal(opened[0]?.value, 1)
    } finally {
      await gw.stop()
    }
    // the access log marks the fast failures
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(lines.filter((l) => l.circuit_breaker === 'rejected').length, 2)
    assert.ok(lines.filter((l) => l.circuit_breaker === 'rejected').every((l) => l.status === 503))
  })

  test('slow calls open the breaker; the configured response is sent', async () => {
    const gw = await gateway(
      oneBreaker(
        up.url,
        `minimum_calls: 3, slow_call_ms: 40, slow_call_rate_threshold: 60, open_seconds: 30,
          response: { status: 429, body: '{"error":"try later"}', headers: { X-Breaker: open } }`,
      ),
      ADMIN,
    )
    try {
      up.status = 200
      up.delayMs = 120
      assert.deepEqual(await statuses(`${gw.url}/r`, 3), [200, 200, 200])
      const r = await call(`${gw.url}/r`)
      assert.equal(r.status, 429)
      assert.equal(r.text, '{"error":"try later"}')
      assert.equal(r.headers['x-breaker'], 'open')
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8')
      assert.ok(Number(r.headers['retry-after']) >= 29, 'Retry-After: the time left open')
      const [b] = await breakers(gw)
      assert.equal(b!.counters.slow, 3)
      assert.equal(b!.counters.failures, 0)
    } finally {
      up.delayMs = 0
      await gw.stop()
    }
  })

  test('half-open lets exactly half_open_calls trials through, the others fail fast', async () => {
    const gw = await gateway(oneBreaker(up.url, FAST), ADMIN)
    try {
      up.status = 500
      await statuses(`${gw.url}/r`, 4)
      await sleep(600)
      up.status = 200
      up.hold = true
      up.calls = 0
      const all = Array.from({ length: 6 }, () => call(`${gw.url}/r`))
      assert.ok(await eventually(() => up.held === 2), 'two trials at the upstream')
      // the four others were answered at once, without an upstream call
      const settled = await Promise.race([
        Promise.allSettled(all.slice(0)).then(() => 'all'),
        sleep(300).then(() => 'some'),
      ])
      assert.equal(settled, 'some', 'the two trials are still held')
      up.release()
      up.hold = false
      const got = (await Promise.all(all)).map((r) => r.status).sort()
      assert.deepEqual(got, [200, 200, 503, 503, 503, 503])
      assert.equal(up.calls, 2)
      assert.equal((await breakers(gw))[0]!.state, 'closed')
    } finally {
      up.hold = false
      up.release()
      await gw.stop()
    }
  })

  test('a config reload keeps the state', async () => {
    const gw = await gateway(
      oneBreaker(
        up.url,
        FAST.replace('open_seconds: 0.5, max_open_seconds: 2', 'open_seconds: 60, max_open_seconds: 120'),
      ),
      ADMIN,
    )
    try {
      up.status = 500
      await statuses(`${gw.url}/r`, 4)
      assert.equal((await call(`${gw.url}/r`)).status, 503)
      const before = (await breakers(gw))[0]!
      // a new file: another threshold, another route; same plugin
      writeFileSync(
        gw.file!,
        oneBreaker(
          up.url,
          FAST.replace(
            'open_seconds: 0.5, max_open_seconds: 2',
            'open_seconds: 60, max_open_seconds: 120',
          ).replace('minimum_calls: 4', 'minimum_calls: 10'),
        ).replace('paths: [/r]', 'paths: [/r, /r2]'),
      )
      const result = await gw.reload()
      assert.equal(result.ok, true)
      assert.equal(gw.gateway.runtime.generation, 2)
      up.status = 200
      assert.equal((await call(`${gw.url}/r2`)).status, 503, 'still open after the reload')
      const after = (await breakers(gw))[0]!
      assert.equal(after.state, 'open')
      assert.equal(after.counters.rejected, before.counters.rejected + 1)
    } finally {
      await gw.stop()
    }
  })

  test('the Admin API forces a breaker open and closed', async () => {
    const gw = await gateway(oneBreaker(up.url, FAST), ADMIN)
    try {
      up.status = 200
      const [b] = await breakers(gw)
      const id = encodeURIComponent(b!.id)
      const opened = await admin(gw, 'POST', `/circuit-breakers/${id}/open`)
      assert.equal(opened.status, 200)
      assert.equal((opened.body as { state: string }).state, 'forced_open')
      await sleep(600)
      assert.equal((await call(`${gw.url}/r`)).status, 503, 'held open past open_seconds')
      const closed = await admin(gw, 'POST', `/circuit-breakers/${id}/close`)
      assert.equal((closed.body as { state: string }).state, 'closed')
      assert.equal((await call(`${gw.url}/r`)).status, 200)
      assert.equal((await admin(gw, 'POST', '/circuit-breakers/nope/open')).status, 404)
    } finally {
      await gw.stop()
    }
  })

  test('on a consumer: refused with a clear error', async () => {
    const doc = `_format_version: "3.0"
consumers: [{ username: alice }]
plugins:
  - name: circuit-breaker
    consumer: alice
`
    await assert.rejects(
      gateway(doc),
      /cannot be applied to a consumer: a breaker guards a service or its targets/,
    )
  })
})

describe('circuit-breaker, scope target', () => {
  let good: Switchable
  let bad: Switchable
  before(async () => {
    good = await switchable('good')
    bad = await switchable('bad')
  })
  after(async () => {
    await good.close()
    await bad.close()
  })

  const doc = (retries: number, targets: string[]) => `_format_version: "3.0"
services:
  - name: s
    host: pool
    retries: ${retries}
    routes: [{ name: r, paths: [/r] }]
upstreams:
  - name: pool
    targets:
${targets.map((t) => `      - { target: "${t}" }\n`).join('')}plugins:
  - name: circuit-breaker
    service: s
    config: { scope: target, minimum_calls: 3, open_seconds: 60 }
`

  test('an open target leaves the balancer; the service keeps serving from the other', async () => {
    bad.status = 500
    good.status = 200
    bad.calls = 0
    good.calls = 0
    const gw = await gateway(doc(0, [`127.0.0.1:${good.port}`, `127.0.0.1:${bad.port}`]), ADMIN)
    try {
      const got = await statuses(`${gw.url}/r`, 20)
      assert.equal(bad.calls, 3, 'minimum_calls failures, then never again')
      assert.equal(got.filter((s) => s === 500).length, 3)
      assert.deepEqual(got.slice(-10), Array(10).fill(200))
      const list = await breakers(gw)
      assert.equal(list.length, 2)
      assert.equal(list.find((b) => b.target === `127.0.0.1:${bad.port}`)!.state, 'open')
      assert.equal(list.find((b) => b.target === `127.0.0.1:${good.port}`)!.state, 'closed')
    } finally {
      await gw.stop()
    }
  })

  test('retries never go to a target whose breaker is open; every target open fails fast', async () => {
    good.status = 200
    good.calls = 0
    // a port nobody listens on: connection refused, retried on the other target
    const dead = `127.0.0.1:${bad.port}`
    await bad.close()
    const gw = await gateway(doc(2, [`127.0.0.1:${good.port}`, dead]), ADMIN)
    try {
      const got = await statuses(`${gw.url}/r`, 12)
      assert.deepEqual(got, Array(12).fill(200), 'each failure retried on the good target')
      const m = await metrics(gw)
      const deadId = (await breakers(gw)).find((b) => b.target === dead)!.id
      const calls = (result: string) =>
        value(m, 'portico_circuit_breaker_calls_total', {
          breaker: deadId,
          service: 's',
          target: dead,
          result,
        })
      assert.equal(calls('failure'), 3, 'open after 3 failures, never tried again')
      assert.equal(value(m, 'portico_upstream_retries_total', { upstream: 'pool', result: 'sent' }), 3)
      // the good target forced open too: nothing left, the fast failure
      const goodId = (await breakers(gw)).find((b) => b.target !== dead)!.id
      await admin(gw, 'POST', `/circuit-breakers/${encodeURIComponent(goodId)}/open`)
      const r = await call(`${gw.url}/r`)
      assert.equal(r.status, 503)
      assert.ok(r.headers['retry-after'] !== undefined)
    } finally {
      await gw.stop()
      bad = await switchable('bad')
    }
  })
})

describe('retry budget', () => {
  test('retries stop at the budget (3 a second over 10 s with little traffic), counted in metrics', async () => {
    const dead = await switchable('dead')
    const port = dead.port
    await dead.close()
    const gw = await gateway(
      `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:${port}
    retries: 5
    routes: [{ name: r, paths: [/r] }]
`,
      ADMIN,
    )
    try {
      const got = await statuses(`${gw.url}/r`, 7)
      assert.deepEqual(got, Array(7).fill(502))
      const m = await metrics(gw)
      const upstream = `127.0.0.1:${port}`
      assert.equal(value(m, 'portico_upstream_requests_total', { upstream }), 7)
      assert.equal(value(m, 'portico_upstream_retries_total', { upstream, result: 'sent' }), 30)
      assert.equal(value(m, 'portico_upstream_retries_total', { upstream, result: 'budget_exhausted' }), 1)
    } finally {
      await gw.stop()
    }
  })
})

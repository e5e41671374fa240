import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { type ProgressSnapshot, runLoad } from './load.js'
import { startTestServer } from './test-server.js'

test('closed loop: every request counted once, statuses, checks, bytes and templates right', async () => {
  // every 10th request (by the server's count) fails, so the expected tallies follow from the count
  const srv = await startTestServer((_req, n) =>
    n % 10 === 0 ? { status: 503, body: 'no' } : { body: 'hello' },
  )
  const snapshots: ProgressSnapshot[] = []
  const r = await runLoad({
    request: { url: `${srv.url}/items/{{i}}?r={{rand:5}}`, headers: { 'x-vu': 'vu-{{vu}}' } },
    vus: 4,
    duration: 1,
    checks: { 'status is 200': (res) => res.status === 200, 'says hello': (res) => res.body === 'hello' },
    onProgress: (s) => snapshots.push(s),
  })
  await srv.close()

  const n = srv.count
  const bad = Math.ceil(n / 10)
  assert.ok(n > 0)
  assert.equal(r.requests, n)
  assert.equal(r.completed, n)
  assert.equal(r.errors + r.interrupted + r.dropped, 0)
  assert.deepEqual(r.statusCounts, { '200': n - bad, '503': bad })
  assert.equal(r.failed, bad)
  assert.equal(r.failureRate, bad / n)
  assert.deepEqual(r.checks, [
    { name: 'status is 200', passes: n - bad, fails: bad },
    { name: 'says hello', passes: n - bad, fails: bad },
  ])
  assert.equal(r.bytesReceived, 5 * (n - bad) + 2 * bad)
  assert.equal(r.latency.count, n)
  assert.ok(r.peakInFlight <= 4)
  assert.equal(
    r.timeline.reduce((sum, p) => sum + p.requests, 0),
    n,
  )
  assert.equal(r.mode, 'closed')

  // {{i}} is distinct per request, {{vu}} names one of the 4 VUs, {{rand:5}} stays below 5
  const paths = srv.seen.map((s) => new URL(s.path, 'http://x'))
  assert.equal(new Set(paths.map((u) => u.pathname)).size, n)
  assert.ok(paths.every((u) => Number(u.searchParams.get('r')) < 5))
  assert.deepEqual(new Set(srv.seen.map((s) => s.headers['x-vu'])), new Set(['vu-1', 'vu-2', 'vu-3', 'vu-4']))

  assert.ok(snapshots.length >= 2)
  assert.equal(snapshots.at(-1)!.final, true)
  assert.equal(snapshots.at(-1)!.requests, n)
})

test('open loop: sends about the rate, and every arrival is either sent or dropped', async () => {
  const srv = await startTestServer(() => ({ body: 'ok' }))
  const r = await runLoad({ request: { url: srv.url }, rate: 200, maxVus: 50, duration: 1 })
  await srv.close()
  assert.equal(r.mode, 'open')
  assert.equal(r.targetRate, 200)
  assert.equal(r.requests + r.dropped, 200)
  assert.ok(r.requests >= 100 && r.requests <= 300, `sent ${r.requests}`)
  assert.equal(srv.count, r.requests)
  assert.equal(r.completed, r.requests)
})

test('open loop: arrivals that find every VU busy on a slow server are dropped, not queued', async () => {
  const srv = await startTestServer(() => ({ body: 'slow', delay: 100 }))
  const r = await runLoad({ request: { url: srv.url }, rate: 200, maxVus: 2, duration: 1 })
  await srv.close()
  // two VUs on a 100 ms server can take about 20 of the 200 arrivals
  assert.ok(r.dropped > 0, `dropped ${r.dropped}`)
  assert.equal(r.requests + r.dropped, 200)
  assert.equal(srv.count, r.requests)
  assert.ok(r.peakInFlight <= 2)
  assert.equal(
    r.timeline.reduce((sum, p) => sum + p.dropped, 0),
    r.dropped,
  )
})

test('network errors are failures with their code, and fail every check', async () => {
  // a port that was free a moment ago: connections are refused
  const probe = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => probe.once('listening', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  const r = await runLoad({
    request: { url: `http://127.0.0.1:${port}/` },
    vus: 2,
    duration: 0.3,
    checks: { any: () => true },
  })
  assert.ok(r.errors > 0)
  assert.equal(r.completed, 0)
  assert.equal(r.failed, r.errors)
  assert.equal(r.failureRate, 1)
  assert.equal(r.errorCounts.ECONNREFUSED, r.errors)
  assert.deepEqual(r.checks, [{ name: 'any', passes: 0, fails: r.errors }])
  assert.equal(r.latency.count, 0)
})

test('abort stops at once: requests in flight are counted as interrupted', async () => {
  const ac = new AbortController()
  // the server never answers; the run is aborted once both VUs' requests have arrived
  const srv = await startTestServer((_req, n) => {
    if (n === 1) setImmediate(() => ac.abort())
    return { delay: 60_000 }
  })
  const r = await runLoad({ request: { url: srv.url }, vus: 2, duration: 30, signal: ac.signal })
  await srv.close()
  assert.equal(r.aborted, true)
  assert.equal(r.requests, 2)
  assert.equal(r.interrupted, 2)
  assert.equal(r.completed + r.errors + r.failed, 0)
})

test('request functions, JSON bodies and expectStatus', async () => {
  const srv = await startTestServer(() => ({ status: 429, body: '{}' }))
  const r = await runLoad({
    request: ({ i, vu }) => ({ url: `${srv.url}/infer`, method: 'post', body: { i, vu } }),
    vus: 2,
    duration: 0.3,
    expectStatus: [200, 429],
  })
  await srv.close()
  assert.equal(r.target, 'custom requests')
  assert.equal(r.failed, 0)
  assert.deepEqual(r.statusCounts, { '429': srv.count })
  const bodies = srv.seen.map((s) => JSON.parse(s.body) as { i: number; vu: number })
  assert.deepEqual(
    bodies.map((b) => b.i).sort((a, b) => a - b),
    [...Array(srv.count).keys()],
  )
  assert.ok(srv.seen.every((s) => s.headers['content-type'] === 'application/json'))
  assert.equal(
    r.bytesSent,
    srv.seen.reduce((sum, s) => sum + Buffer.byteLength(s.body), 0),
  )
})

test('bad options and bad templates fail before any request is sent', async () => {
  const srv = await startTestServer(() => ({}))
  const request = { url: srv.url }
  await assert.rejects(runLoad({ request, vus: 2, rate: 10, duration: 1 }), /with rate, use maxVus/)
  await assert.rejects(runLoad({ request, maxVus: 2, duration: 1 }), /maxVus needs rate/)
  await assert.rejects(runLoad({ request, vus: 0, duration: 1 }), /vus must be a positive integer/)
  await assert.rejects(runLoad({ request, duration: 0 }), /duration must be a positive number/)
  await assert.rejects(
    runLoad({ request: { url: `${srv.url}/{{vuu}}` }, duration: 1 }),
    /unknown template \{\{vuu\}\}/,
  )
  await assert.rejects(runLoad({ request: { url: 'ftp://x/' }, duration: 1 }), /unsupported URL scheme/)
  await srv.close()
  assert.equal(srv.count, 0)
})

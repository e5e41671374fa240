import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startSlow } from './slow.js'
import type { DemoServer } from './types.js'

interface SlowReply {
  data: { hit: number; report: string; rows: unknown[]; [key: string]: unknown }
  generated_at: string
  slow_ms: number
}

let srv: DemoServer

before(async () => {
  srv = await startSlow({ slowMs: 10 })
})
after(() => srv.close())

async function hits(): Promise<number> {
  const res = await fetch(`${srv.url}/stats`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  return ((await res.json()) as { hits: number }).hits
}

test('GET /slow is cacheable JSON and every request that reaches it is counted', async () => {
  const before = await hits()
  const res = await fetch(`${srv.url}/slow`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'public, max-age=30')
  assert.equal(res.headers.get('x-instance'), 'slow')
  const body = (await res.json()) as SlowReply
  assert.equal(body.slow_ms, 10)
  assert.equal(body.data.report, 'quarterly-summary')
  assert.equal(body.data.rows.length, 3)
  assert.ok(!Number.isNaN(Date.parse(body.generated_at)))
  assert.equal(new Date(body.generated_at).toISOString(), body.generated_at)

  const second = (await (await fetch(`${srv.url}/slow`)).json()) as SlowReply
  // the sequence number tells a fresh answer from a replayed one
  assert.equal(second.data.hit, body.data.hit + 1)
  assert.equal(await hits(), before + 2)
})

test('query parameters are echoed but cannot overwrite the payload', async () => {
  const res = await fetch(`${srv.url}/slow?id=7&hit=bogus&report=x`)
  const body = (await res.json()) as SlowReply
  assert.equal(body.data.id, '7')
  assert.equal(typeof body.data.hit, 'number')
  assert.equal(body.data.report, 'quarterly-summary')
})

test('HEAD /slow counts as a request; DELETE /stats resets the counter', async () => {
  const head = await fetch(`${srv.url}/slow`, { method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.ok(Number(head.headers.get('content-length')) > 0)
  assert.ok((await hits()) >= 1)

  const reset = await fetch(`${srv.url}/stats`, { method: 'DELETE' })
  assert.equal(reset.status, 204)
  assert.equal(await hits(), 0)
  await fetch(`${srv.url}/slow?x=1`).then((r) => r.arrayBuffer())
  assert.equal(await hits(), 1)
})

test('wrong methods and paths are JSON errors; /healthz is 200', async () => {
  const post = await fetch(`${srv.url}/slow`, { method: 'POST', body: '{}' })
  assert.equal(post.status, 405)
  assert.equal(post.headers.get('allow'), 'GET, HEAD')
  assert.equal(((await post.json()) as { error: string }).error, 'method_not_allowed')

  const put = await fetch(`${srv.url}/stats`, { method: 'PUT' })
  assert.equal(put.status, 405)
  await put.body?.cancel()

  const missing = await fetch(`${srv.url}/fast`)
  assert.equal(missing.status, 404)
  await missing.body?.cancel()

  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200)
})

test('a client that gives up does not break the service', async () => {
  const slow = await startSlow({ slowMs: 5_000, name: 'slower' })
  try {
    await assert.rejects(fetch(`${slow.url}/slow`, { signal: AbortSignal.timeout(50) }))
    const stats = await fetch(`${slow.url}/stats`)
    assert.deepEqual(await stats.json(), { hits: 1 })
  } finally {
    await slow.close()
  }
})

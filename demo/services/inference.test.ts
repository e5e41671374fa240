import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { infer, startInference } from './inference.js'
import type { DemoServer } from './types.js'

interface InferReply {
  model: string
  instance: string
  output: { text: string; tokens: number; characters: number; digest: string }
  latency_ms: number
}

let srv: DemoServer

before(async () => {
  srv = await startInference({ name: 'inference-a', model: 'python', latencyMs: 5, jitterMs: 5 })
})
after(() => srv.close())

function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return fetch(`${srv.url}/infer`, { method: 'POST', headers, body })
}

test('infer is a pure function of model and input', () => {
  const out = infer('python', 'hello  big world')
  assert.equal(out.text, 'dlrow gib  olleh')
  assert.equal(out.tokens, 3)
  assert.equal(out.characters, 16)
  assert.match(out.digest, /^[0-9a-f]{16}$/)
  assert.deepEqual(infer('python', 'hello  big world'), out)
  // another model gives another answer to the same prompt
  assert.notEqual(infer('node', 'hello  big world').digest, out.digest)
  // structured input: key order does not matter, values do
  assert.deepEqual(infer('m', { b: 1, a: [1, 2] }), infer('m', { a: [1, 2], b: 1 }))
  assert.notDeepEqual(infer('m', { a: 1 }), infer('m', { a: 2 }))
  // reversal keeps astral characters intact
  assert.equal(infer('m', 'a😀b').text, 'b😀a')
})

test('POST /infer answers the same output for the same prompt', async () => {
  const first = await post('{"prompt":"the quick brown fox"}')
  assert.equal(first.status, 200)
  assert.equal(first.headers.get('x-instance'), 'inference-a')
  const a = (await first.json()) as InferReply
  assert.equal(a.model, 'python')
  assert.equal(a.instance, 'inference-a')
  assert.deepEqual(a.output, infer('python', 'the quick brown fox'))
  assert.equal(typeof a.latency_ms, 'number')
  assert.ok(a.latency_ms >= 0)

  // curl -d sends a form content type; the body is still JSON
  const again = await post('{"prompt":"the quick brown fox"}', {
    'content-type': 'application/x-www-form-urlencoded',
  })
  assert.deepEqual(((await again.json()) as InferReply).output, a.output)
})

test('POST /infer accepts {"input": …} of any JSON type', async () => {
  const res = await post('{"input":{"features":[1,2,3],"k":2}}')
  assert.equal(res.status, 200)
  const body = (await res.json()) as InferReply
  assert.deepEqual(body.output, infer('python', { k: 2, features: [1, 2, 3] }))
})

test('bad requests get JSON errors', async () => {
  const cases: Array<[string, number, string]> = [
    ['{"prompt": "unterminated', 400, 'invalid_json'],
    ['[1,2,3]', 400, 'invalid_json'],
    ['{}', 400, 'invalid_input'],
    ['{"prompt": 42}', 400, 'invalid_input'],
  ]
  for (const [body, status, error] of cases) {
    const res = await post(body)
    assert.equal(res.status, status, body)
    assert.equal(((await res.json()) as { error: string }).error, error, body)
  }

  const big = await post(JSON.stringify({ prompt: 'x'.repeat(1024 * 1024 + 1) }))
  assert.equal(big.status, 413)
  assert.equal(((await big.json()) as { error: string }).error, 'payload_too_large')

  const get = await fetch(`${srv.url}/infer`)
  assert.equal(get.status, 405)
  assert.equal(get.headers.get('allow'), 'POST')
  await get.body?.cancel()

  const missing = await fetch(`${srv.url}/predict`, { method: 'POST', body: '{}' })
  assert.equal(missing.status, 404)
  await missing.body?.cancel()
})

test('GET /healthz is 200', async () => {
  const res = await fetch(`${srv.url}/healthz`)
  assert.equal(res.status, 200)
  assert.equal(((await res.json()) as { status: string }).status, 'ok')
})

test('switched to fail: /infer answers the status at once and /stats counts the calls; healed again', async () => {
  const before = ((await (await fetch(`${srv.url}/stats`)).json()) as { calls: number }).calls
  const fail = await fetch(`${srv.url}/admin/fail`, { method: 'POST', body: '{"status":500}' })
  assert.deepEqual(await fail.json(), { failing: true, status: 500 })
  const r = await post('{"prompt":"hi"}')
  assert.equal(r.status, 500)
  await r.body?.cancel()
  assert.equal((await fetch(`${srv.url}/admin/fail`, { method: 'POST', body: '{"status":404}' })).status, 400)
  await (await fetch(`${srv.url}/admin/fail`, { method: 'DELETE' })).body?.cancel()
  const ok = await post('{"prompt":"hi"}')
  assert.equal(ok.status, 200)
  await ok.body?.cancel()
  const stats = (await (await fetch(`${srv.url}/stats`)).json()) as { calls: number; failing: boolean }
  assert.deepEqual(stats, { calls: before + 2, failing: false })
})

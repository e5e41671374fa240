import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseObject, readBody, readObject } from './body.js'
import { HttpError, sendJson, serve } from './http.js'

const FORM = 'application/x-www-form-urlencoded'

test('parseObject reads JSON objects, forms and empty bodies', () => {
  assert.deepEqual(parseObject(Buffer.from('{"a":1}'), 'application/json'), { a: 1 })
  assert.deepEqual(parseObject(Buffer.from('a=1&b=two%20words'), FORM), { a: '1', b: 'two words' })
  assert.deepEqual(parseObject(Buffer.from('  '), 'application/json'), {})
  // `curl -d '{…}'` labels JSON as a form; it is still read as JSON
  assert.deepEqual(parseObject(Buffer.from('{"user":"x"}'), FORM), { user: 'x' })
  assert.deepEqual(parseObject(Buffer.from('{"a":true}'), undefined), { a: true })
})

test('parseObject refuses bad JSON and non-objects with 400', () => {
  for (const text of ['{"a":', 'not json', '[1,2]', '42', 'null', '"str"']) {
    assert.throws(
      () => parseObject(Buffer.from(text), 'application/json'),
      (err: unknown) => err instanceof HttpError && err.status === 400 && err.code === 'invalid_json',
      text,
    )
  }
})

test('readBody enforces its limit whether or not Content-Length is declared', async () => {
  const srv = await serve('body', { port: 0 }, async (req, res, url) => {
    if (url.pathname === '/object') return sendJson(res, 200, await readObject(req))
    const body = await readBody(req, 1000)
    sendJson(res, 200, { bytes: body.length })
  })
  try {
    const fits = await fetch(`${srv.url}/`, { method: 'POST', body: 'x'.repeat(1000) })
    assert.deepEqual(await fits.json(), { bytes: 1000 })

    const declared = await fetch(`${srv.url}/`, { method: 'POST', body: 'x'.repeat(1001) })
    assert.equal(declared.status, 413)
    assert.equal(((await declared.json()) as { error: string }).error, 'payload_too_large')

    // chunked: no Content-Length, so the limit trips while reading
    const chunks = Array.from({ length: 8 }, () => new TextEncoder().encode('y'.repeat(500)))
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next) controller.enqueue(next)
        else controller.close()
      },
    })
    const chunked = await fetch(`${srv.url}/`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit)
    assert.equal(chunked.status, 413)
    assert.equal(chunked.headers.get('connection'), 'close')

    const form = await fetch(`${srv.url}/object`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: 'username=alice&password=p',
    })
    assert.deepEqual(await form.json(), { username: 'alice', password: 'p' })

    const bad = await fetch(`${srv.url}/object`, { method: 'POST', body: '{oops' })
    assert.equal(bad.status, 400)
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_json')
  } finally {
    await srv.close()
  }
})

import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { delay, HttpError, sendJson, serve } from './http.js'

/** Writes raw bytes and returns whatever the server sends before closing. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    let out = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (out += chunk))
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
  })
}

test('serve answers /healthz, tags every reply with X-Instance and maps HttpError to JSON', async () => {
  const srv = await serve('probe', { port: 0 }, (_req, res, url) => {
    if (url.pathname === '/teapot') throw new HttpError(418, 'teapot', 'short and stout', { 'x-extra': '1' })
    sendJson(res, 200, { path: url.pathname, q: url.searchParams.get('q') })
  })
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(srv.url, `http://127.0.0.1:${srv.port}`)
    assert.equal(srv.name, 'probe')

    const health = await fetch(`${srv.url}/healthz`)
    assert.equal(health.status, 200)
    assert.equal(health.headers.get('x-instance'), 'probe')
    const body = (await health.json()) as Record<string, unknown>
    assert.equal(body.status, 'ok')
    assert.equal(body.name, 'probe')

    const ok = await fetch(`${srv.url}//double?q=1`)
    assert.deepEqual(await ok.json(), { path: '//double', q: '1' })
    assert.equal(ok.headers.get('content-type'), 'application/json; charset=utf-8')

    const tea = await fetch(`${srv.url}/teapot`)
    assert.equal(tea.status, 418)
    assert.equal(tea.headers.get('x-extra'), '1')
    assert.equal(tea.headers.get('x-instance'), 'probe')
    assert.deepEqual(await tea.json(), { error: 'teapot', message: 'short and stout' })
  } finally {
    await srv.close()
  }
})

test('an unexpected error is a 500 and the server keeps serving', async (t) => {
  const logged = t.mock.method(console, 'error', () => {})
  const srv = await serve('buggy', { port: 0 }, async (_req, res, url) => {
    if (url.pathname === '/boom') throw new TypeError('bug')
    sendJson(res, 200, { fine: true })
  })
  try {
    const boom = await fetch(`${srv.url}/boom`)
    assert.equal(boom.status, 500)
    assert.deepEqual(await boom.json(), { error: 'internal', message: 'unexpected error' })
    assert.equal(logged.mock.callCount(), 1)
    assert.equal((await fetch(`${srv.url}/after`)).status, 200)
  } finally {
    await srv.close()
  }
})

test('malformed HTTP gets a JSON 400 from the parser guard, not a crash', async () => {
  const srv = await serve('strict', { port: 0 }, (_req, res) => sendJson(res, 200, {}))
  try {
    // Content-Length together with Transfer-Encoding is ambiguous framing (request smuggling).
    const reply = await raw(
      srv.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    )
    assert.match(reply, /^HTTP\/1\.1 400 /)
    assert.match(reply, /"error":"bad_request"/)
    assert.match(await raw(srv.port, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 /)
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200)
  } finally {
    await srv.close()
  }
})

test('close drops keep-alive and in-flight connections and is idempotent', async () => {
  let aborted: Promise<boolean> | undefined
  const srv = await serve('closer', { port: 0 }, (_req, res) => {
    aborted = delay(60_000, res)
  })
  const pending = fetch(`${srv.url}/hang`).then(
    () => 'answered',
    () => 'dropped',
  )
  while (aborted === undefined) await new Promise((r) => setTimeout(r, 5))
  await Promise.all([srv.close(), srv.close()])
  assert.equal(await pending, 'dropped')
  // delay() gave up when the connection went away instead of holding a 60 s timer
  assert.equal(await aborted, false)
  await assert.rejects(fetch(`${srv.url}/healthz`))
})

test('a port already in use rejects instead of throwing asynchronously', async () => {
  const first = await serve('first', { port: 0 }, (_req, res) => sendJson(res, 200, {}))
  try {
    await assert.rejects(
      serve('second', { port: first.port }, (_req, res) => sendJson(res, 200, {})),
      /EADDRINUSE/,
    )
  } finally {
    await first.close()
  }
})

// Raw UTF-8 bytes in Admin API request lines (`PUT /services/円`, not percent-encoded), as Kong
// accepts them: the request-line filter of src/control-plane/raw-target.ts, over real sockets.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeTarget, RequestLineFilter } from '../../src/control-plane/raw-target.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { RawClient, type RawResponse } from '../fixtures/raw-http.js'

let a: AdminNode
before(async () => {
  a = await adminNode({}, null, [])
})
after(() => a.stop())

const utf8 = (r: RawResponse | null) => {
  assert.ok(r, 'a response')
  // the fixture decodes a body as UTF-8
  return { status: r.status, headers: r.headers, text: r.body }
}
const json = (r: RawResponse | null) => JSON.parse(utf8(r).text) as Record<string, unknown>
/** one request as raw bytes: the target is written as UTF-8, never percent-encoded */
const request = (method: string, target: string, body?: string) => {
  const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
  if (body === undefined) return Buffer.from(`${head}\r\n`, 'utf8')
  return Buffer.from(
    `${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'utf8',
  )
}

describe('raw UTF-8 in Admin API entity paths', () => {
  it('creates by name, gets, patches and deletes /services/円 on one connection', async () => {
    const c = await RawClient.open(a.node.admin?.port as number)
    try {
      c.send(request('PUT', '/services/円', '{"host":"example.test"}'))
      const created = json(await c.response())
      assert.equal(created.name, '円')
      assert.equal(created.host, 'example.test')

      c.send(request('GET', '/services/円'))
      assert.deepEqual(json(await c.response()), created)

      // the body of the PATCH holds raw UTF-8 too: it is a body, passed on untouched
      c.send(request('PATCH', '/services/円', '{"host":"patched.test","tags":["東京"]}'))
      const patched = json(await c.response())
      assert.deepEqual([patched.id, patched.host, patched.tags], [created.id, 'patched.test', ['東京']])

      // percent-encoded, as browsers and HTTP libraries send it: the same entity
      c.send(request('GET', '/services/%E5%86%86'))
      assert.equal(json(await c.response()).id, created.id)

      c.send(request('DELETE', '/services/円'))
      assert.equal(utf8(await c.response()).status, 204)
      c.send(request('GET', '/services/円'))
      assert.equal(utf8(await c.response()).status, 404)
    } finally {
      c.close()
    }
  })

  it('follows a chunked body to the next request line', async () => {
    const c = await RawClient.open(a.node.admin?.port as number)
    try {
      const body = '{"username":"ユーザー"}'
      const size = Buffer.byteLength(body).toString(16)
      c.send(
        Buffer.from(
          `POST /consumers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
            `Transfer-Encoding: chunked\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`,
          'utf8',
        ),
      )
      assert.equal(utf8(await c.response()).status, 201)
      c.send(request('GET', '/consumers/ユーザー'))
      assert.equal(json(await c.response()).username, 'ユーザー')
    } finally {
      c.close()
    }
  })

  it('still refuses what the strict parser refuses (a length with Transfer-Encoding)', async () => {
    const c = await RawClient.open(a.node.admin?.port as number)
    try {
      c.send(
        'POST /consumers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n' +
          'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      )
      assert.equal((await c.response())?.status, 400)
    } finally {
      c.close()
    }
  })
})

describe('RequestLineFilter', () => {
  /** the bytes of `s` in UTF-8, read one byte per character (what `run` returns) */
  const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1')
  const run = (chunks: string[]) => {
    const f = new RequestLineFilter()
    return Buffer.concat(chunks.map((s) => f.push(Buffer.from(s, 'utf8')))).toString('latin1')
  }
  it('encodes the target only, across chunk boundaries', () => {
    const bytes = Buffer.from('GET /a/円 HTTP/1.1\r\n', 'utf8')
    const f = new RequestLineFilter()
    const out = Buffer.concat([f.push(bytes.subarray(0, 8)), f.push(bytes.subarray(8))])
    assert.equal(out.toString('latin1'), 'GET /a/%E5%86%86 HTTP/1.1\r\n')
  })
  it('leaves header values and Content-Length bodies alone', () => {
    const head = 'POST /円 HTTP/1.1\r\nX-Name: 円\r\nContent-Length: 3\r\n\r\n'
    assert.equal(
      run([head, '円', 'GET /円 HTTP/1.1\r\n\r\n']),
      latin1(
        'POST /%E5%86%86 HTTP/1.1\r\nX-Name: 円\r\nContent-Length: 3\r\n\r\n円GET /%E5%86%86 HTTP/1.1\r\n\r\n',
      ),
    )
  })
  it('passes everything through after framing it does not follow', () => {
    const out = run(['POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 'GET /円 HTTP/1.1\r\n\r\n'])
    assert.ok(out.endsWith(latin1('GET /円 HTTP/1.1\r\n\r\n')))
  })
  it('changes no line that is not a request line', () => {
    const line = Buffer.from('円円 円\r\n', 'utf8')
    assert.equal(encodeTarget(line), line)
  })
})

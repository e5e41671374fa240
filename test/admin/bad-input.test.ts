import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_SERVER_LIMITS } from '../../src/data-plane/server.js'
import { DEFAULT_SETTINGS } from '../../src/main.js'
import { gateway, raw } from '../fixtures/helpers.js'
import { stack } from '../fixtures/stack.js'

const status = (out: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1] ?? 0)

describe('bad input is refused before any upstream call', () => {
  const req = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`

  const s = stack({
    start: (up) =>
      gateway(
        `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes: [{ name: r, paths: [/] }]
`,
        {
          limits: { ...DEFAULT_SETTINGS.limits, maxBodySize: 1000, maxHeaders: 50, maxUrlLength: 2048 },
          server: { ...DEFAULT_SERVER_LIMITS, headersTimeout: 1000, requestTimeout: 2000 },
        },
      ),
  })

  const cases: Array<[string, string, number]> = [
    [
      'Content-Length with Transfer-Encoding',
      req(['POST /x HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
      400,
    ],
    [
      'Transfer-Encoding on HTTP/1.0',
      req(['POST /x HTTP/1.0', 'Host: a', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
      400,
    ],
    ['duplicate Host', req(['GET /x HTTP/1.1', 'Host: a', 'Host: b']), 400],
    ['encoded slash in the path', req(['GET /a%2Fb HTTP/1.1', 'Host: a']), 400],
    ['encoded backslash in the path', req(['GET /a%5cb HTTP/1.1', 'Host: a']), 400],
    ['raw backslash in the path', req(['GET /a\\b HTTP/1.1', 'Host: a']), 400],
    [
      'absolute-form target whose host disagrees with Host',
      req(['GET http://evil.test/x HTTP/1.1', 'Host: a']),
      400,
    ],
    ['URL longer than the limit', req([`GET /${'a'.repeat(3000)} HTTP/1.1`, 'Host: a']), 414],
    [
      'more headers than the limit',
      req(['GET /x HTTP/1.1', 'Host: a', ...Array.from({ length: 60 }, (_, i) => `X-H${i}: v`)]),
      431,
    ],
    [
      'a header block larger than maxHeaderSize',
      req(['GET /x HTTP/1.1', 'Host: a', `X-Big: ${'b'.repeat(20_000)}`]),
      431,
    ],
    [
      'Content-Length over the body limit (413 before the body is read)',
      req(['POST /x HTTP/1.1', 'Host: a', 'Content-Length: 5000']),
      413,
    ],
  ]

  for (const [name, data, expected] of cases) {
    test(`${name} → ${expected}`, async () => {
      const before = s.up.seen.length
      const out = await raw(s.gw.proxy.port, data, 1500)
      assert.equal(status(out), expected, out.slice(0, 200))
      assert.match(out, /application\/json/)
      assert.equal(s.up.seen.length, before, 'the upstream saw nothing')
    })
  }

  test('a chunked body over the limit → 413 and no complete upstream request', async () => {
    const before = s.up.seen.length
    const chunk = 'x'.repeat(600)
    const body = `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`
    const out = await raw(
      s.gw.proxy.port,
      req(['POST /x HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], body),
    )
    assert.equal(status(out), 413)
    assert.equal(s.up.seen.length, before)
  })

  test('the headers timeout fires within a second of its setting', async () => {
    const started = performance.now()
    const out = await raw(s.gw.proxy.port, 'GET /x HTTP/1.1\r\nHost: a\r\n', 4000)
    const elapsed = performance.now() - started
    assert.equal(status(out), 408)
    assert.ok(elapsed < 1000 + 1500, `408 after ${Math.round(elapsed)} ms`)
  })

  test('the request timeout cuts a body that never finishes', async () => {
    const started = performance.now()
    const out = await raw(
      s.gw.proxy.port,
      req(['POST /x HTTP/1.1', 'Host: a', 'Content-Length: 100'], 'abc'),
      5000,
    )
    const elapsed = performance.now() - started
    assert.ok(elapsed < 2000 + 1500, `closed after ${Math.round(elapsed)} ms`)
    assert.ok(out === '' || status(out) === 408 || status(out) >= 500, out.slice(0, 100))
  })
})

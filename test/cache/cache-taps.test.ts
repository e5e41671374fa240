import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PluginDefinition } from '../../src/core/plugin.js'
import { call, gateway } from '../fixtures/helpers.js'
import { testPlugin } from '../fixtures/plugins.js'
import { stack } from '../fixtures/stack.js'

// Test data: two tiny plugins. `tap` records what its body tap sees; `upper` buffers the body
// (as response-transformer does) and upper-cases it.
const seen: Array<{ body: string; ended: boolean }> = []
const tap = testPlugin('test-tap', 50, () => ({
  response(_ctx, head) {
    const rec = { body: '', ended: false }
    seen.push(rec)
    ;(head.taps ??= []).push({
      chunk: (d) => {
        rec.body += d.toString()
      },
      end: () => {
        rec.ended = true
      },
      abort: () => {},
    })
  },
}))
const upper: PluginDefinition = {
  name: 'test-upper',
  priority: 800,
  schema: tap.schema,
  create: () => ({
    response(_ctx, head) {
      head.buffer = true
    },
    body: (_ctx, _head, body) => Buffer.from(body.toString().toUpperCase()),
  }),
}

describe('response body taps', () => {
  const s = stack({
    respond: (_req, res) => res.end('hello body'),
    start: (up) =>
      gateway(
        `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: streamed
        paths: [/streamed]
        plugins: [{ name: test-tap }]
      - name: buffered
        paths: [/buffered]
        plugins: [{ name: test-tap }, { name: test-upper }]
`,
        {},
        [tap, upper],
      ),
  })

  test('a streamed body reaches the tap, then end()', async () => {
    seen.length = 0
    assert.equal((await call(`${s.gw.url}/streamed`)).text, 'hello body')
    assert.deepEqual(seen, [{ body: 'hello body', ended: true }])
  })

  test('a buffered body reaches the tap as the client gets it, then end()', async () => {
    seen.length = 0
    assert.equal((await call(`${s.gw.url}/buffered`)).text, 'HELLO BODY')
    assert.deepEqual(seen, [{ body: 'HELLO BODY', ended: true }])
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import type { RequestContext } from '../../src/core/context.js'
import type { PluginDefinition, PluginInstance } from '../../src/core/plugin.js'
import { slot } from '../../src/core/slot.js'
import { call, gateway } from '../fixtures/helpers.js'
import { testPlugin } from '../fixtures/plugins.js'
import { stack } from '../fixtures/stack.js'

const MARK = slot<string | undefined>('test.mark', undefined)

// Test data: `test-answer` answers every request itself and asks for a background continuation
// (as proxy-cache does for stale_while_revalidate); `test-later` runs after it and marks what it
// sends upstream, so the test sees which steps the copy went through.
const events: string[] = []
const answer: PluginDefinition = {
  name: 'test-answer',
  priority: 200,
  schema: z.strictObject({}),
  create: () => {
    const self: PluginInstance = {
      access(ctx: RequestContext) {
        if (ctx.background) {
          events.push(`copy access ${ctx.method} state=${String(ctx.get(MARK))}`)
          return undefined
        }
        ctx.afterReply = {
          from: self,
          ...(ctx.method === 'HEAD' && { method: 'GET' }),
          prepare: (copy) => {
            copy.set(MARK, 'prepared')
          },
          done: (copy, started) => events.push(`done started=${started} status=${copy.res.statusCode}`),
        }
        return { status: 200, body: 'answered by the plugin' }
      },
      log(ctx) {
        events.push(`log background=${ctx.background}`)
      },
    }
    return self
  },
}
const later = testPlugin('test-later', 50, () => ({
  access(ctx) {
    ctx.setUpstreamHeader('x-later', ctx.background ? 'copy' : 'client')
    return undefined
  },
}))

describe('a request continued in the background after a plugin answered it', () => {
  const observed: string[] = []
  const s = stack({
    start: async (up) => {
      const gw = await gateway(
        `
_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - name: r
        paths: [/bg]
        plugins: [{ name: test-answer }, { name: test-later }]
`,
        {},
        [answer, later],
      )
      gw.gateway.observers.push((ctx) => observed.push(`${ctx.method} ${ctx.status}`))
      return gw
    },
  })

  const settled = async (n: number) => {
    for (let i = 0; i < 150 && events.filter((e) => e.startsWith('done')).length < n; i++)
      await new Promise((r) => setTimeout(r, 20))
  }

  test('the copy re-enters at the plugin, runs the later steps, reaches the upstream; only the client is observed', async () => {
    events.length = 0
    observed.length = 0
    const before = s.up.seen.length
    const r = await call(`${s.gw.url}/bg/x?q=1`)
    assert.equal(r.text, 'answered by the plugin')
    await settled(1)
    // the client's own log phase runs when its response closes: before or after the copy starts
    assert.ok(events.includes('log background=false'))
    assert.deepEqual(
      events.filter((e) => e !== 'log background=false'),
      ['copy access GET state=prepared', 'log background=true', 'done started=true status=200'],
    )
    const sent = s.up.seen.slice(before)
    assert.equal(sent.length, 1)
    assert.equal(sent[0]!.url, '/x?q=1')
    assert.equal(sent[0]!.headers['x-later'], 'copy')
    assert.notEqual(sent[0]!.headers['x-request-id'], r.headers['x-request-id'], 'a request id of its own')
    assert.equal(sent[0]!.headers['x-forwarded-host'], '127.0.0.1')
    assert.deepEqual(observed, ['GET 200'], 'metrics and logs see the client’s request only')
  })

  test('the copy may use another method (a HEAD continued as a GET)', async () => {
    events.length = 0
    const before = s.up.seen.length
    await call(`${s.gw.url}/bg/head`, { method: 'HEAD' })
    await settled(1)
    assert.deepEqual(
      s.up.seen.slice(before).map((s) => s.method),
      ['GET'],
    )
    assert.ok(events.includes('copy access GET state=prepared'))
  })

  test('a streamed client body cannot be sent again: the copy does not start, and says so', async () => {
    events.length = 0
    const before = s.up.seen.length
    await call(`${s.gw.url}/bg/post`, { method: 'POST', body: 'not buffered by any plugin' })
    await settled(1)
    assert.ok(events.includes('done started=false status=200'), JSON.stringify(events))
    assert.equal(s.up.seen.length, before)
  })
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RequestContext } from '../../core/context.js'
import { plugin } from './plugin.js'
import { SELECTION } from './recorder.js'
import { schema } from './schema.js'

test("Kong's fields and defaults; ai_metrics only at its default; unknown fields refused", () => {
  assert.deepEqual(schema.parse({}), {
    per_consumer: false,
    status_code_metrics: false,
    latency_metrics: false,
    bandwidth_metrics: false,
    upstream_health_metrics: false,
    ai_metrics: false,
  })
  assert.equal(schema.safeParse({ ai_metrics: false }).success, true)
  const ai = schema.safeParse({ ai_metrics: true })
  assert.equal(ai.success, false)
  assert.match(ai.error!.issues[0]!.message, /only false is accepted/)
  assert.equal(schema.safeParse({ status_code_metric: true }).success, false)
  assert.equal(schema.safeParse({ per_consumer: 'yes' }).success, false)
  assert.equal(plugin.priority, 13)
})

test('the log phase hands every request the same selection object, built once', async () => {
  const inst = await plugin.create(
    schema.parse({ status_code_metrics: true, per_consumer: true }),
    {} as never,
  )
  const fake = { headers: {}, method: 'GET', socket: {} } as never
  const a = new RequestContext(fake, {} as never, 'a', 0)
  const b = new RequestContext(fake, {} as never, 'b', 0)
  assert.equal(a.get(SELECTION), null)
  inst.log!(a)
  inst.log!(b)
  assert.equal(a.get(SELECTION), b.get(SELECTION))
  assert.deepEqual(a.get(SELECTION), {
    statusCodes: true,
    latency: false,
    bandwidth: false,
    perConsumer: true,
  })
  assert.ok(Object.isFrozen(a.get(SELECTION)))
})

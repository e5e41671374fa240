import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema } from './schema.js'

test("Kong's defaults and cross-field rules", () => {
  assert.deepEqual(schema.parse({}), { status_code: 503, echo: false })
  const message = (config: unknown) => schema.safeParse(config).error?.issues.map((i) => i.message)
  assert.deepEqual(message({ message: 'a', body: 'b' }), ['message cannot be used with content_type or body'])
  assert.deepEqual(message({ content_type: 'text/plain' }), ['content_type requires a body'])
  assert.deepEqual(message({ echo: true, body: 'b' }), ['echo cannot be used with content_type and body'])
  assert.ok(message({ status_code: 600 }))
  assert.ok(message({ trigger: 'not a header' }))
  assert.equal(message({ status_code: 418, body: 'x', content_type: 'text/plain' }), undefined)
})

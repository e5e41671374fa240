import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema } from './schema.js'

test("request-size-limiting defaults are Kong's", () => {
  assert.deepEqual(schema.parse({}), {
    allowed_payload_size: 128,
    size_unit: 'megabytes',
    require_content_length: false,
  })
  assert.ok(!schema.safeParse({ size_unit: 'gigabytes' }).success)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema as correlationId } from '../correlation-id/schema.js'
import { schema } from './schema.js'

test("request-size-limiting and correlation-id defaults are Kong's", () => {
  assert.deepEqual(schema.parse({}), {
    allowed_payload_size: 128,
    size_unit: 'megabytes',
    require_content_length: false,
  })
  assert.ok(!schema.safeParse({ size_unit: 'gigabytes' }).success)
  assert.deepEqual(correlationId.parse({}), {
    header_name: 'Kong-Request-ID',
    generator: 'uuid#counter',
    echo_downstream: false,
  })
  assert.ok(!correlationId.safeParse({ generator: 'ulid' }).success)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema } from './schema.js'

test("correlation-id defaults are Kong's", () => {
  assert.deepEqual(schema.parse({}), {
    header_name: 'Kong-Request-ID',
    generator: 'uuid#counter',
    echo_downstream: false,
  })
  assert.ok(!schema.safeParse({ generator: 'ulid' }).success)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema } from './schema.js'

test("defaults are Kong's empty lists", () => {
  const empty = { json: [], json_types: [], headers: [] }
  assert.deepEqual(schema.parse({}), {
    remove: { json: [], headers: [] },
    rename: { json: [], headers: [] },
    replace: empty,
    add: empty,
    append: empty,
  })
})

test("entries follow Kong's rules", () => {
  const bad = (config: unknown) => !schema.safeParse(config).success
  assert.ok(bad({ add: { headers: ['no-colon'] } }))
  assert.ok(bad({ add: { headers: ['bad name:x'] } }))
  assert.ok(bad({ rename: { headers: ['x-a:bad name'] } }))
  assert.ok(bad({ add: { json_types: ['object'] } }))
  assert.ok(bad({ add: { json: ['no-colon'] } }))
  assert.ok(!bad({ add: { json: ['a:1', 'b:'], json_types: ['number'] }, remove: { json: ['c'] } }))
})

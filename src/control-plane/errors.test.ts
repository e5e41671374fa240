import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ApiError, KONG_CODES, notFound, schemaViolation } from './errors.js'

test('ApiError is an Error carrying the status and the body Kong sends', () => {
  const e = notFound()
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'ApiError')
  assert.equal(e.status, 404)
  assert.equal(e.message, 'Not found')
  assert.deepEqual(e.body, { message: 'Not found' })
  const v = schemaViolation([{ path: 'name', message: 'required field missing' }])
  assert.ok(v instanceof ApiError)
  assert.deepEqual([v.status, v.body.code], [400, KONG_CODES.SCHEMA_VIOLATION])
  assert.equal(typeof v.stack, 'string')
})

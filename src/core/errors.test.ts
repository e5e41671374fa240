import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ERRORS, errorBody, GatewayError } from './errors.js'

test('every error code carries its status from the one table', () => {
  for (const code of Object.keys(ERRORS) as Array<keyof typeof ERRORS>) {
    const e = new GatewayError(code)
    assert.equal(e.code, code)
    assert.equal(e.status, ERRORS[code].status)
    assert.ok(e.status >= 400 && e.status < 600)
  }
})

test('error bodies carry the request id', () => {
  assert.deepEqual(JSON.parse(errorBody('x', 'r1')), { message: 'x', request_id: 'r1' })
  assert.deepEqual(JSON.parse(errorBody('x', undefined)), { message: 'x' })
})

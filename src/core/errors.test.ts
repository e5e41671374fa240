import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ERRORS, errorBody, GatewayError, reply } from './errors.js'

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

test("reply: the code's status and message; Kong's error body with the request id", () => {
  const r = reply({ id: 'r1' }, 'UNAUTHORIZED', {
    message: 'No API key found in request',
    headers: { 'www-authenticate': 'Key' },
  })
  assert.equal(r.status, ERRORS.UNAUTHORIZED.status)
  assert.deepEqual(r.headers, {
    'content-type': 'application/json; charset=utf-8',
    'www-authenticate': 'Key',
  })
  assert.deepEqual(r.body, { message: 'No API key found in request', request_id: 'r1' })
  assert.deepEqual(reply({ id: 'r1' }, 'RATE_LIMITED').body, {
    message: ERRORS.RATE_LIMITED.message,
    request_id: 'r1',
  })
})

test('reply: exit codes and whole bodies are sent as given, without a request id', () => {
  const exit = reply({ id: 'r1' }, 'TOKEN_REJECTED', { message: 'Invalid signature' })
  assert.equal(exit.status, 401)
  assert.deepEqual(exit.body, { message: 'Invalid signature' })
  const whole = reply({ id: 'r1' }, 'TOKEN_REJECTED', { body: { exp: 'token expired' } })
  assert.deepEqual(whole.body, { exp: 'token expired' })
  const raw = reply(null, 'TERMINATED', {
    status: 418,
    headers: { 'content-type': 'text/html' },
    body: '<h1/>',
  })
  assert.deepEqual([raw.status, raw.headers['content-type'], raw.body], [418, 'text/html', '<h1/>'])
  const none = reply(null, 'TERMINATED', { status: 204, body: null })
  assert.deepEqual(none, { status: 204, headers: {}, body: undefined })
  assert.deepEqual(reply(null, 'NOT_FOUND').body, { message: 'Not found' }, 'Admin API: no id')
})

test("reply: a configured status overrides the code's", () => {
  const r = reply({ id: 'r1' }, 'IP_FORBIDDEN', { status: 401, message: 'go away' })
  assert.equal(r.status, 401)
  assert.deepEqual(r.body, { message: 'go away', request_id: 'r1' })
})

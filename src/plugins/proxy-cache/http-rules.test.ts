import assert from 'node:assert/strict'
import { test } from 'node:test'
import { contentTypeMatcher, parseDirectives, resourceTtl } from './http-rules.js'

test('Cache-Control directives: bare, numeric, quoted, several headers', () => {
  assert.deepEqual(parseDirectives('Public, MAX-AGE=60, no-cache="set-cookie"'), {
    public: true,
    'max-age': 60,
    'no-cache': 'set-cookie',
  })
  assert.deepEqual(parseDirectives(['no-store', 's-maxage=5']), { 'no-store': true, 's-maxage': 5 })
  assert.deepEqual(parseDirectives(undefined), {})
  assert.deepEqual(parseDirectives('max-age=abc'), { 'max-age': 'abc' })
})

test('freshness lifetime: s-maxage over max-age over Expires − Date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  assert.equal(resourceTtl(parseDirectives('max-age=10, s-maxage=20'), {}, now), 20)
  assert.equal(resourceTtl(parseDirectives('max-age=10'), {}, now), 10)
  const headers = { date: 'Thu, 01 Jan 2026 00:00:00 GMT', expires: 'Thu, 01 Jan 2026 00:01:00 GMT' }
  assert.equal(resourceTtl({}, headers, now), 60)
  assert.equal(resourceTtl({}, { expires: '0' }, now), 0)
  assert.equal(resourceTtl({}, {}, now), 0)
})

test('content types: type, subtype and parameters, with wildcards (Kong 3.x)', () => {
  const ok = contentTypeMatcher(['application/json', 'text/*', 'application/json; charset=utf-8'])
  assert.equal(ok('application/json'), true)
  assert.equal(ok('Application/JSON'), true)
  assert.equal(ok('application/json; charset=UTF-8'), true)
  assert.equal(ok('application/json;charset="utf-8"'), true)
  assert.equal(ok('application/json; charset=latin1'), false)
  assert.equal(ok('text/html'), true)
  assert.equal(ok('text/html; charset=utf-8'), false, 'text/* matches without parameters only')
  assert.equal(ok('image/png'), false)
  assert.equal(ok(undefined), false)
  assert.equal(ok(['application/json', 'application/json']), false, 'a repeated header never matches')
  assert.equal(contentTypeMatcher(['*/*'])('image/png'), true)
})

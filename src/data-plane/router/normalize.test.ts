import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizePath } from './normalize.js'

const normalised: Array<[string, string]> = [
  ['/', '/'],
  ['/api/v1/users', '/api/v1/users'],
  ['/api/', '/api/'],
  ['/a/./b', '/a/b'],
  ['/a/b/../c', '/a/c'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a/..', '/'],
  ['/..', '/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/a/../../b', '/b'],
  ['/.', '/'],
  ['//', '/'],
  ['//a///b//', '/a/b/'],
  ['/a/.hidden/..b/c', '/a/.hidden/..b/c'],
  ['/a...b/...', '/a...b/...'],
  ['/%41%62c', '/Abc'],
  ['/%7euser/%2d%2E%5F', '/~user/-._'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/a%3a%3B', '/a%3A%3B'],
  ['/50%25', '/50%25'],
  ['/%2e%2e/secret', '/secret'],
  ['/a/%2E/b', '/a/b'],
  ['/a/%2e%2E', '/'],
  ['/files/%252F', '/files/%252F'],
  ['/é/ü', '/é/ü'],
]

test('normalises dot segments, duplicate slashes and escapes', () => {
  for (const [raw, want] of normalised) assert.equal(normalizePath(raw), want, raw)
})

const rejected: string[] = [
  '',
  'api/v1',
  '*',
  '/a%2Fb',
  '/a%2fb',
  '/a%5Cb',
  '/a%5cb',
  '/a\\b',
  '/a\u0000b',
  '/a%00b',
  '/a\nb',
  '/a\tb',
  '/a\u007fb',
  '/a%zz',
  '/a%4',
  '/a%',
  '/a%G1',
  '//%2F',
  '/ok/../a%2Fb',
]

test('rejects ambiguous or malformed paths', () => {
  for (const raw of rejected) assert.equal(normalizePath(raw), null, JSON.stringify(raw))
})

test('rejects a control character even after the first sign of work', () => {
  assert.equal(normalizePath('//a\u0001'), null)
  assert.equal(normalizePath('/%41\\'), null)
})

test('returns an already-clean path as the very same string', () => {
  const raw = ['/api', 'v1', 'users', '42'].join('/')
  assert.equal(normalizePath(raw), raw)
  assert.equal(normalizePath('/a.b/c..d/.e'), '/a.b/c..d/.e')
})

test('is idempotent', () => {
  for (const [raw] of normalised) {
    const once = normalizePath(raw)
    assert.ok(once !== null)
    assert.equal(normalizePath(once), once, raw)
  }
})

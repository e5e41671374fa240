import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizeOrigin, OriginMatcher } from './origins.js'

test('normalizeOrigin drops default ports and keeps others', () => {
  assert.deepEqual(normalizeOrigin('https://a.example.com:443'), {
    domain: 'https://a.example.com',
    host: 'a.example.com',
  })
  assert.deepEqual(normalizeOrigin('http://a.example.com:80'), {
    domain: 'http://a.example.com',
    host: 'a.example.com',
  })
  assert.deepEqual(normalizeOrigin('http://a.example.com:8080'), {
    domain: 'http://a.example.com:8080',
    host: 'a.example.com',
  })
  assert.deepEqual(normalizeOrigin('a.example.com'), { domain: 'a.example.com', host: 'a.example.com' })
  assert.deepEqual(normalizeOrigin('http://[::1]:3000'), { domain: 'http://[::1]:3000', host: '[::1]' })
})

test('exact origins compare normalised', () => {
  const m = new OriginMatcher(['https://a.example.com', 'http://b.example.com:8080'])
  assert.equal(m.match('https://a.example.com:443'), 'https://a.example.com')
  assert.equal(m.match('http://b.example.com:8080'), 'http://b.example.com:8080')
  assert.equal(m.match('http://a.example.com'), null)
  assert.equal(m.match('http://b.example.com'), null)
})

test('regex origins are anchored; without a colon they match the host alone', () => {
  const m = new OriginMatcher(['.*\\.example\\.org', 'https://(dev|www)\\.app\\.io'])
  assert.equal(m.match('https://x.example.org'), 'https://x.example.org')
  assert.equal(m.match('http://a.b.example.org:8000'), 'http://a.b.example.org:8000')
  assert.equal(m.match('https://example.org.evil.com'), null)
  assert.equal(m.match('https://dev.app.io'), 'https://dev.app.io')
  assert.equal(m.match('https://dev.app.io.evil.com'), null)
  assert.equal(m.match('http://dev.app.io'), null)
  // an explicit ^…$ is accepted as is
  assert.equal(new OriginMatcher(['^https://z\\.io$']).match('https://z.io'), 'https://z.io')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseServiceUrl } from './url.js'

test('the url shorthand gives protocol, host, port (scheme default) and path as written', () => {
  const cases: Array<[string, object]> = [
    ['http://users.internal:8080/v1', { protocol: 'http', host: 'users.internal', port: 8080, path: '/v1' }],
    ['https://api.example.com', { protocol: 'https', host: 'api.example.com', port: 443 }],
    ['HTTP://h/', { protocol: 'http', host: 'h', port: 80, path: '/' }],
    ['ws://h', { protocol: 'ws', host: 'h', port: 80 }],
    ['wss://h:9443/socket', { protocol: 'wss', host: 'h', port: 9443, path: '/socket' }],
    ['http://[::1]:5000/x', { protocol: 'http', host: '::1', port: 5000, path: '/x' }],
    ['http://10.0.0.7', { protocol: 'http', host: '10.0.0.7', port: 80 }],
  ]
  for (const [url, value] of cases) assert.deepEqual(parseServiceUrl(url), { ok: true, value }, url)
})

test('the url shorthand refuses what it cannot represent', () => {
  const cases: Array<[string, RegExp]> = [
    ['users.internal:8080', /expected scheme:\/\/host/],
    ['ftp://h', /unsupported protocol 'ftp'/],
    ['grpc://h:50051', /unsupported protocol 'grpc'/],
    ['http://h/a?b=1', /query string or fragment/],
    ['http://h#top', /query string or fragment/],
    ['http:///path', /missing host/],
    ['http://user:pw@h', /credentials/],
    ['http://h:99999', /invalid port/],
    ['http://bad_host!', /not a valid hostname/],
  ]
  for (const [url, message] of cases) {
    const result = parseServiceUrl(url)
    assert.equal(result.ok, false, url)
    if (!result.ok) assert.match(result.message, message, url)
  }
})

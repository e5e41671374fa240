import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatAddress, parseTarget } from './target.js'

test('parseTarget reads Kong target strings', () => {
  assert.deepEqual(parseTarget('Users-1:8080'), { host: 'users-1', port: 8080, address: 'users-1:8080' })
  assert.deepEqual(parseTarget('10.0.0.1'), { host: '10.0.0.1', port: 8000, address: '10.0.0.1:8000' })
  assert.deepEqual(parseTarget('[::1]:80'), { host: '::1', port: 80, address: '[::1]:80' })
  assert.deepEqual(parseTarget('[::1]'), { host: '::1', port: 8000, address: '[::1]:8000' })
  assert.deepEqual(parseTarget('fe80::1'), { host: 'fe80::1', port: 8000, address: '[fe80::1]:8000' })
})

test('parseTarget refuses malformed targets', () => {
  for (const bad of ['', ':80', 'host:', 'host:0', 'host:70000', 'host:8a', '[::1', '[::1]x']) {
    assert.throws(() => parseTarget(bad), /invalid/, bad)
  }
})

test('formatAddress brackets IPv6 hosts only', () => {
  assert.equal(formatAddress('::1', 443), '[::1]:443')
  assert.equal(formatAddress('example.com', 443), 'example.com:443')
})

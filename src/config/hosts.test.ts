import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRouteHost, formatHostPort, isHostname, isIpOrCidr, parseHostPort } from './hosts.js'

test('parseHostPort splits names, IPv4 and IPv6 addresses with or without a port', () => {
  const cases: Array<[string, ReturnType<typeof parseHostPort>]> = [
    ['api.internal', { host: 'api.internal', port: undefined, kind: 'name' }],
    ['api.internal:8080', { host: 'api.internal', port: 8080, kind: 'name' }],
    ['_http._tcp.svc', { host: '_http._tcp.svc', port: undefined, kind: 'name' }],
    ['10.0.0.1:0', { host: '10.0.0.1', port: 0, kind: 'ipv4' }],
    ['::1', { host: '::1', port: undefined, kind: 'ipv6' }],
    ['[fe80::1]:9000', { host: 'fe80::1', port: 9000, kind: 'ipv6' }],
  ]
  for (const [input, expected] of cases) assert.deepEqual(parseHostPort(input), expected, input)
})

test('parseHostPort rejects what is neither a name nor an address', () => {
  for (const input of ['', 'bad host', 'a..b', 'x:99999', 'x:', 'x:1a', '[::1', '[nope]:80', '1.2.3', '-x']) {
    assert.equal(typeof parseHostPort(input), 'string', `${input} should be rejected`)
  }
})

test('isHostname limits labels to 63 characters and names to 253', () => {
  assert.equal(isHostname(`${'a'.repeat(63)}.io`), true)
  assert.equal(isHostname(`${'a'.repeat(64)}.io`), false)
  assert.equal(isHostname(Array.from({ length: 64 }, () => 'abc').join('.')), false)
})

test('formatHostPort brackets IPv6 only', () => {
  assert.equal(formatHostPort('::1', 80), '[::1]:80')
  assert.equal(formatHostPort('a.b', 80), 'a.b:80')
})

test('route hosts take one wildcard, leftmost or rightmost, and an optional port', () => {
  for (const ok of ['*.example.com', 'example.*', 'example.com:8080', '*.example.com:8443', '10.0.0.1']) {
    assert.equal(checkRouteHost(ok), undefined, ok)
  }
  assert.match(checkRouteHost('a.*.com') ?? '', /leftmost or rightmost/)
  assert.match(checkRouteHost('*.a.*') ?? '', /at most one wildcard/)
  assert.match(checkRouteHost('*.bad host') ?? '', /not a valid hostname/)
})

test('isIpOrCidr accepts addresses and ranges with a valid prefix length', () => {
  for (const ok of ['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']) assert.equal(isIpOrCidr(ok), true, ok)
  for (const bad of ['10.0.0.0/33', 'fd00::/129', 'host/8', '10.0.0.0/'])
    assert.equal(isIpOrCidr(bad), false, bad)
})

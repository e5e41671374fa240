import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertAdminBinding, isLoopback, tokenChecker } from './auth.js'
import { nestFields, schemaViolation } from './errors.js'
import { UpstreamPolicy } from './upstream-policy.js'

describe('UpstreamPolicy', () => {
  test('without a list: everything but link-local and metadata addresses', () => {
    const p = UpstreamPolicy.parse(undefined)
    assert.equal(p.check('example.com'), undefined)
    assert.equal(p.check('10.0.0.1'), undefined)
    for (const host of [
      '169.254.169.254',
      '169.254.0.1',
      'fd00:ec2::254',
      '[fd00:ec2::254]',
      'fe80::1',
      '::ffff:169.254.169.254',
      'metadata.google.internal',
    ]) {
      assert.match(p.check(host) ?? '', /link-local or metadata/, host)
    }
  })

  test('with a list: names, *.suffix wildcards, IPs and CIDRs; metadata only when listed', () => {
    const p = UpstreamPolicy.parse('api.example.com, *.internal, 10.0.0.0/8, 127.0.0.1, 169.254.169.254')
    assert.equal(p.check('api.example.com'), undefined)
    assert.equal(p.check('users.internal'), undefined)
    assert.equal(p.check('10.20.30.40'), undefined)
    assert.equal(p.check('127.0.0.1'), undefined)
    assert.equal(p.check('169.254.169.254'), undefined)
    assert.match(p.check('example.com') ?? '', /not in the allowed upstreams/)
    assert.match(p.check('11.0.0.1') ?? '', /not in the allowed upstreams/)
    assert.match(p.check('169.254.1.1') ?? '', /link-local/)
  })

  test('a malformed list refuses to start', () => {
    assert.throws(() => UpstreamPolicy.parse('10.0.0.0/99'))
    assert.throws(() => UpstreamPolicy.parse('bad host!'))
  })
})

describe('admin binding and token', () => {
  test('loopback needs no token; any other address needs one of 16+ characters', () => {
    assert.ok(
      isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && isLoopback('127.1.2.3'),
    )
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('10.0.0.1') && !isLoopback('::'))
    assert.doesNotThrow(() => assertAdminBinding({ host: '127.0.0.1', port: 8001 }, undefined))
    assert.throws(() => assertAdminBinding({ host: '0.0.0.0', port: 8001 }, undefined), /PORTICO_ADMIN_TOKEN/)
    assert.throws(() => assertAdminBinding({ host: '0.0.0.0', port: 8001 }, 'short'), /too short/)
    assert.doesNotThrow(() =>
      assertAdminBinding({ host: '0.0.0.0', port: 8001 }, 'a-long-enough-admin-token'),
    )
  })

  test('the token is read from Authorization: Bearer, Portico-Admin-Token or Kong-Admin-Token', () => {
    const check = tokenChecker('a-long-enough-admin-token')
    assert.ok(check({ authorization: 'Bearer a-long-enough-admin-token' }))
    assert.ok(check({ 'portico-admin-token': 'a-long-enough-admin-token' }))
    assert.ok(check({ 'kong-admin-token': 'a-long-enough-admin-token' }))
    assert.ok(!check({ authorization: 'Bearer a-long-enough-admin-tokeN' }))
    assert.ok(!check({ authorization: 'Basic a-long-enough-admin-token' }))
    assert.ok(!check({}))
    assert.ok(tokenChecker(undefined)({}))
  })

  test('a wrong token of any length is refused alike (fixed-size digests compared with timingSafeEqual)', () => {
    const check = tokenChecker('a-long-enough-admin-token')
    for (const given of [
      '',
      'a',
      'a-long-enough-admin-toke',
      'a-long-enough-admin-token-',
      'x'.repeat(10_000),
    ]) {
      assert.equal(check({ authorization: `Bearer ${given}` }), false, `${given.length} characters`)
      assert.equal(check({ 'portico-admin-token': given }), false, `${given.length} characters`)
    }
  })
})

describe("Kong's error bodies", () => {
  test('fields nest by path; lists by position; entity-level issues under @entity', () => {
    const fields = nestFields(
      [
        { path: 'plugins[2].config.minute', message: 'expected a number' },
        { path: 'plugins[2].config.key_names[1]', message: 'bad' },
        { path: 'plugins[2]', message: 'whole entity' },
        { path: 'plugins[2]["x.y"]', message: 'quoted' },
      ],
      'plugins[2]',
    )
    assert.deepEqual(fields, {
      config: { minute: 'expected a number', key_names: [null, 'bad'] },
      '@entity': ['whole entity'],
      'x.y': 'quoted',
    })
  })

  test('one or several violations, worded as Kong words them', () => {
    assert.deepEqual(schemaViolation([{ path: 'host', message: 'required field missing' }]).body, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (host: required field missing)',
      fields: { host: 'required field missing' },
    })
    const two = schemaViolation([
      { path: 'host', message: 'required field missing' },
      { path: 'path', message: 'should start with: /' },
    ])
    assert.equal(
      two.body.message,
      '2 schema violations (host: required field missing; path: should start with: /)',
    )
  })
})

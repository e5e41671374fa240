import assert from 'node:assert/strict'
import { test } from 'node:test'
import { schema } from './schema.js'

test('allow or deny is required; entries are IPv4/IPv6 addresses or CIDRs', () => {
  assert.ok(schema.safeParse({ allow: ['10.0.0.0/8', '::1', '2001:db8::/32'], deny: ['1.2.3.4'] }).success)
  assert.match(schema.safeParse({}).error!.issues[0]!.message, /at least one of/)
  assert.match(schema.safeParse({ deny: ['10.0.0.0/33'] }).error!.issues[0]!.message, /invalid ip or cidr/)
  assert.match(schema.safeParse({ allow: ['example.com'] }).error!.issues[0]!.message, /invalid ip or cidr/)
  assert.ok(!schema.safeParse({ deny: ['1.2.3.4'], status: 200 }).success)
})

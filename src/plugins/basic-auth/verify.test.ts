import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, verifyPassword } from '../../config/password.js'
import { VerifiedPasswords, verifyPasswordAsync } from './verify.js'

const stored = hashPassword('s3cret', 'cred-1')

test("verifyPasswordAsync agrees with the loader's verifyPassword", async () => {
  for (const given of ['s3cret', 's3cret ', 'S3cret', '', 'x'.repeat(300)]) {
    assert.equal(await verifyPasswordAsync(given, stored), verifyPassword(given, stored), given)
  }
  assert.equal(await verifyPasswordAsync('s3cret', stored), true)
})

test('verifyPasswordAsync is false for anything that is not a well-formed hash', async () => {
  for (const bad of ['s3cret', 'scrypt$3$8$1$c2FsdA$aGFzaA', 'scrypt$16384$8$1$$', '', `${stored}x$`]) {
    assert.equal(await verifyPasswordAsync('s3cret', bad), false, bad)
  }
})

test('VerifiedPasswords runs scrypt once per (credential, hash, password), and shares a run in flight', async () => {
  const v = new VerifiedPasswords(100)
  const [a, b] = [v.check('cred-1', stored, 's3cret'), v.check('cred-1', stored, 's3cret')]
  assert.ok(a instanceof Promise)
  assert.equal(await a, true)
  assert.equal(await b, true)
  assert.equal(v.runs, 1)
  assert.equal(v.check('cred-1', stored, 's3cret'), true, 'a hit is synchronous')
  assert.equal(v.runs, 1)
})

test('VerifiedPasswords does not remember failures, nor match another hash or credential', async () => {
  const v = new VerifiedPasswords(100)
  assert.equal(await v.check('cred-1', stored, 'wrong'), false)
  assert.equal(await v.check('cred-1', stored, 'wrong'), false)
  assert.equal(v.runs, 2)
  assert.equal(await v.check('cred-1', stored, 's3cret'), true)
  // the password changed: the stored hash differs, the old success must not count
  const changed = hashPassword('other', 'cred-1')
  assert.equal(await v.check('cred-1', changed, 's3cret'), false)
  assert.equal(await v.check('cred-2', stored, 's3cret'), true, 'another credential verifies on its own')
  assert.equal(v.runs, 5)
})

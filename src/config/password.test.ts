import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, isPasswordHash, verifyPassword } from './password.js'

test('a hashed password verifies, a wrong one does not', () => {
  const stored = hashPassword('s3cret', 'credential-1')
  assert.equal(isPasswordHash(stored), true)
  assert.equal(verifyPassword('s3cret', stored), true)
  assert.equal(verifyPassword('s3cret!', stored), false)
})

test('the salt comes from the credential: same input same hash, other credential other hash', () => {
  assert.equal(hashPassword('pw', 'a'), hashPassword('pw', 'a'))
  assert.notEqual(hashPassword('pw', 'a'), hashPassword('pw', 'b'))
})

test('malformed hashes never verify and never throw', () => {
  for (const stored of ['pw', 'scrypt$', 'scrypt$3$8$1$c2FsdA$aGFzaA', 'sha1$abc']) {
    assert.equal(verifyPassword('pw', stored), false, stored)
  }
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, isPasswordHash, verifyPassword, verifyPasswordAsync } from './password.js'

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

test('verifyPasswordAsync gives the same answers as verifyPassword', async () => {
  const stored = hashPassword('s3cret', 'cred-1')
  for (const given of ['s3cret', 's3cret ', 'S3cret', '', 'x'.repeat(300)]) {
    assert.equal(await verifyPasswordAsync(given, stored), verifyPassword(given, stored), given)
  }
  assert.equal(await verifyPasswordAsync('s3cret', stored), true)
  for (const bad of ['s3cret', 'scrypt$3$8$1$c2FsdA$aGFzaA', 'scrypt$16384$8$1$$', '', `${stored}x$`]) {
    assert.equal(await verifyPasswordAsync('s3cret', bad), false, bad)
  }
})

test('verifyPasswordAsync leaves the event loop free while scrypt runs', async () => {
  const stored = hashPassword('s3cret', 'cred-1')
  let turned = false
  setImmediate(() => {
    turned = true
  })
  // a synchronous scrypt would settle the promise before the loop could turn even once
  const ok = await verifyPasswordAsync('s3cret', stored)
  assert.equal(ok, true)
  assert.equal(turned, true, 'the event loop ran while the password was checked')
})

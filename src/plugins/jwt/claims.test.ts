import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ClaimRules, maximumExpirationError, registeredClaimErrors } from './claims.js'

const rules = (r: Partial<ClaimRules>): ClaimRules => ({
  exp: false,
  nbf: false,
  leeway: 0,
  maximumExpiration: 0,
  ...r,
})
const NOW = 1_700_000_000

test('exp: later than now passes, now or earlier is expired, a non-number is refused', () => {
  const r = rules({ exp: true })
  assert.equal(registeredClaimErrors({ exp: NOW + 1 }, r, NOW), null)
  assert.deepEqual(registeredClaimErrors({ exp: NOW }, r, NOW), { exp: 'token expired' })
  assert.deepEqual(registeredClaimErrors({ exp: NOW - 1 }, r, NOW), { exp: 'token expired' })
  assert.deepEqual(registeredClaimErrors({}, r, NOW), { exp: 'must be a number' })
  assert.deepEqual(registeredClaimErrors({ exp: String(NOW + 100) }, r, NOW), { exp: 'must be a number' })
})

test('nbf: now or earlier passes, later is not valid yet', () => {
  const r = rules({ nbf: true })
  assert.equal(registeredClaimErrors({ nbf: NOW }, r, NOW), null)
  assert.deepEqual(registeredClaimErrors({ nbf: NOW + 1 }, r, NOW), { nbf: 'token not valid yet' })
  assert.deepEqual(registeredClaimErrors({}, r, NOW), { nbf: 'must be a number' })
})

test('both errors are reported together, unchecked claims are ignored', () => {
  assert.deepEqual(
    registeredClaimErrors({ exp: NOW - 5, nbf: NOW + 5 }, rules({ exp: true, nbf: true }), NOW),
    {
      exp: 'token expired',
      nbf: 'token not valid yet',
    },
  )
  assert.equal(registeredClaimErrors({ exp: 'x', nbf: 'y' }, rules({}), NOW), null)
})

test('leeway widens both edges by exactly its value: 1 s inside passes, 1 s outside fails', () => {
  const L = 30
  const r = rules({ exp: true, nbf: true, leeway: L })
  // exp: expired when exp + L <= now
  assert.equal(registeredClaimErrors({ exp: NOW - L + 1, nbf: NOW }, r, NOW), null)
  assert.deepEqual(registeredClaimErrors({ exp: NOW - L, nbf: NOW }, r, NOW), { exp: 'token expired' })
  assert.deepEqual(registeredClaimErrors({ exp: NOW - L - 1, nbf: NOW }, r, NOW), { exp: 'token expired' })
  // nbf: not yet valid when nbf - L > now
  assert.equal(registeredClaimErrors({ exp: NOW + 60, nbf: NOW + L - 1 }, r, NOW), null)
  assert.equal(registeredClaimErrors({ exp: NOW + 60, nbf: NOW + L }, r, NOW), null)
  assert.deepEqual(registeredClaimErrors({ exp: NOW + 60, nbf: NOW + L + 1 }, r, NOW), {
    nbf: 'token not valid yet',
  })
})

test('maximum_expiration: exp required and at most that far ahead', () => {
  assert.equal(maximumExpirationError({ exp: NOW + 3600 }, 3600, NOW), null)
  assert.deepEqual(maximumExpirationError({ exp: NOW + 3601 }, 3600, NOW), {
    exp: 'exceeds maximum allowed expiration',
  })
  assert.deepEqual(maximumExpirationError({}, 3600, NOW), { exp: 'exceeds maximum allowed expiration' })
  assert.equal(maximumExpirationError({}, 0, NOW), null)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword } from '../../../config/password.js'
import { VerifiedPasswords } from './verified-passwords.js'

const stored = hashPassword('s3cret', 'cred-1')

test('VerifiedPasswords runs scrypt once per (credential, hash, password), and shares a run in flight', async () => {
  const v = new VerifiedPasswords(100)
  const [a, b] = [v.check('cred-1', stored, 's3cret'), v.check('cred-1', stored, 's3cret')]
  assert.ok(a instanceof Promise, 'a miss goes to the thread pool')
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

test('VerifiedPasswords is bounded: past its size the least recently used success is verified again', async () => {
  const v = new VerifiedPasswords(4)
  const creds = Array.from({ length: 6 }, (_, i) => ({
    id: `c${i}`,
    stored: hashPassword(`pw${i}`, `c${i}`),
  }))
  for (const [i, c] of creds.entries()) assert.equal(await v.check(c.id, c.stored, `pw${i}`), true)
  assert.ok(v.size <= 4, `${v.size} entries`)
  assert.equal(v.runs, 6)
  assert.equal(v.check('c5', creds[5]!.stored, 'pw5'), true, 'the latest is still remembered')
  assert.ok(v.check('c0', creds[0]!.stored, 'pw0') instanceof Promise, 'the oldest was dropped')
})

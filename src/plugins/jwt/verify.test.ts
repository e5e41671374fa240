import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isReply } from '../kit/auth/flow.js'
import { fakeContext } from '../kit/testing.js'
import type { JwtCredential } from './credentials.js'
import { forge } from './testing.js'
import { checkSignature, type SignatureContext } from './verify.js'

/** Credentials under one key whose verifiers record the order they are asked in. */
function rotation(
  specs: Array<{ id: string; kid?: string; accepts: boolean; algorithm?: 'HS256' | 'RS256' }>,
) {
  const asked: string[] = []
  const creds: JwtCredential[] = specs.map((s) => ({
    id: s.id,
    key: 'alice-iss',
    algorithm: s.algorithm ?? 'HS256',
    kid: s.kid,
    identity: null,
    jwks: null,
    verifier: () => {
      asked.push(s.id)
      return s.accepts
    },
  }))
  const sig: SignatureContext = {
    credentials: new Map([['alice-iss', creds]]),
    keyClaim: 'iss',
    challenge: { 'www-authenticate': 'Bearer error="invalid_token"' },
  }
  const check = (header: Record<string, unknown>) => {
    const r = checkSignature(
      fakeContext({}),
      sig,
      forge({ alg: 'HS256', ...header }, { iss: 'alice-iss' }, 'x'),
    )
    assert.ok(!(r instanceof Promise))
    return r
  }
  return { asked, check }
}

test("rotation: without a kid every secret of the token's algorithm is tried, in order, until one verifies", () => {
  const r = rotation([
    { id: 'rs', accepts: true, algorithm: 'RS256' },
    { id: 'old', accepts: false },
    { id: 'new', accepts: true },
    { id: 'newer', accepts: true },
  ])
  assert.ok(!isReply(r.check({})))
  assert.deepEqual(r.asked, ['old', 'new'], 'an RS256 key is never asked about an HS256 token')
})

test("rotation: the secret the token's kid names is tried first; a kid never refuses a secret that verifies", () => {
  const r = rotation([
    { id: 'old', kid: 'k1', accepts: false },
    { id: 'plain', accepts: false },
    { id: 'new', kid: 'k2', accepts: true },
  ])
  assert.ok(!isReply(r.check({ kid: 'k2' })))
  assert.deepEqual(r.asked, ['new'])

  const other = rotation([
    { id: 'old', kid: 'k1', accepts: false },
    { id: 'new', kid: 'k2', accepts: true },
  ])
  assert.ok(!isReply(other.check({ kid: 'k1' })), 'named the wrong secret: the others are still tried')
  assert.deepEqual(other.asked, ['old', 'new'])

  const unknown = rotation([
    { id: 'old', kid: 'k1', accepts: false },
    { id: 'new', kid: 'k2', accepts: false },
  ])
  const refused = unknown.check({ kid: '../../etc/passwd' })
  assert.ok(isReply(refused))
  assert.deepEqual(refused.body, { message: 'Invalid signature' })
  assert.deepEqual(unknown.asked, ['old', 'new'], 'each secret asked once')
})

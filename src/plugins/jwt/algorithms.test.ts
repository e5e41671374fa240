import assert from 'node:assert/strict'
import { createPublicKey, type KeyObject } from 'node:crypto'
import { test } from 'node:test'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { JwtAlgorithm } from '../../core/entities.js'
import { hmacVerifier, keyMismatch, publicKeyVerifier, type Verifier } from './algorithms.js'
import { decodeToken } from './decode.js'

function check(v: Verifier, token: string): boolean {
  const d = decodeToken(token)
  assert.ok(typeof d !== 'string', String(d))
  return v(d.signingInput, d.signature)
}
const tamper = (t: string) => {
  const [h, p, s] = t.split('.')
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>
  return `${h}.${Buffer.from(JSON.stringify({ ...claims, admin: true })).toString('base64url')}.${s}`
}

test('HS256/384/512: a jose-signed token verifies, a tampered one or another secret does not', async () => {
  const secret = Buffer.from('a-secret-of-decent-length-0123456789')
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    const token = await new SignJWT({ iss: 'x' }).setProtectedHeader({ alg }).sign(secret)
    assert.equal(check(hmacVerifier(alg, secret), token), true, alg)
    assert.equal(check(hmacVerifier(alg, secret), tamper(token)), false)
    assert.equal(check(hmacVerifier(alg, Buffer.from('other')), token), false)
  }
  // a 256-bit MAC does not pass as a 512-bit one
  const t256 = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(secret)
  assert.equal(check(hmacVerifier('HS512', secret), t256), false)
})

const PUBLIC: Array<[JwtAlgorithm, Record<string, unknown>?]> = [
  ['RS256'],
  ['RS384'],
  ['RS512'],
  ['PS256'],
  ['PS384'],
  ['PS512'],
  ['ES256'],
  ['ES384'],
  ['EdDSA'],
]

test('public-key algorithms: a jose-signed token verifies with the SPKI key, nothing else does', async () => {
  const keys = new Map<JwtAlgorithm, KeyObject>()
  for (const [alg] of PUBLIC) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
    const pub = createPublicKey(await exportSPKI(publicKey))
    keys.set(alg, pub)
    const token = await new SignJWT({ iss: 'x' }).setProtectedHeader({ alg }).sign(privateKey)
    const v = publicKeyVerifier(alg, pub)
    assert.ok(v, `${alg} key accepted`)
    assert.equal(check(v, token), true, alg)
    assert.equal(check(v, tamper(token)), false, `${alg} tampered`)
    const other = await generateKeyPair(alg, { extractable: true })
    assert.equal(
      check(publicKeyVerifier(alg, createPublicKey(await exportSPKI(other.publicKey)))!, token),
      false,
    )
  }
  // a key only verifies its own family (and an EC key only its own curve)
  assert.equal(publicKeyVerifier('ES256', keys.get('RS256')!), undefined)
  assert.equal(publicKeyVerifier('RS256', keys.get('ES256')!), undefined)
  assert.equal(publicKeyVerifier('ES384', keys.get('ES256')!), undefined)
  assert.equal(publicKeyVerifier('EdDSA', keys.get('ES256')!), undefined)
  assert.equal(publicKeyVerifier('HS256', keys.get('RS256')!), undefined)
  assert.match(keyMismatch('ES256', keys.get('RS256')!) ?? '', /rsa key cannot verify ES256/)
  assert.equal(keyMismatch('PS256', keys.get('RS256')!), undefined, 'PS* verifies with an RSA key')
})

test('ES256 refuses a DER-encoded signature (JWS uses r||s)', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(privateKey)
  const v = publicKeyVerifier('ES256', createPublicKey(await exportSPKI(publicKey)))!
  const d = decodeToken(token)
  assert.ok(typeof d !== 'string')
  assert.equal(v(d.signingInput, Buffer.concat([Buffer.from([0x30, 0x44]), d.signature])), false)
  assert.equal(v(d.signingInput, Buffer.alloc(0)), false)
})

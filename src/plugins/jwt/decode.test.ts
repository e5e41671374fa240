import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignJWT } from 'jose'
import { decodeToken, MAX_TOKEN_LENGTH } from './decode.js'
import { forge } from './testing.js'

const b64 = (s: string) => Buffer.from(s).toString('base64url')

test('decodes a well-formed token', async () => {
  const token = await new SignJWT({ iss: 'a', n: 1 })
    .setProtectedHeader({ alg: 'HS256', kid: 'k' })
    .sign(new TextEncoder().encode('s'))
  const d = decodeToken(token)
  assert.ok(typeof d !== 'string')
  assert.equal(d.alg, 'HS256')
  assert.deepEqual(d.claims, { iss: 'a', n: 1 })
  assert.equal(d.header.kid, 'k')
  assert.equal(d.signature.length, 32)
  assert.equal(d.signingInput, token.slice(0, token.lastIndexOf('.')))
})

test("refuses what is not a JWS, with Kong's parser wording", () => {
  const h = b64('{"alg":"HS256"}')
  const p = b64('{"iss":"a"}')
  const cases: Array<[string, string]> = [
    ['', 'invalid JSON'],
    ['abc', 'invalid JSON'],
    [`${h}.${p}`, 'invalid JSON'],
    [`${h}.${p}.sig.extra`, 'invalid JSON'],
    [`${h}.${p}.si+g`, 'invalid JSON'],
    [`${h}=.${p}.sig`, 'invalid JSON'],
    [`${h}.${p}x.sig`, 'invalid JSON'],
    [`${b64('not json')}.${p}.sig`, 'invalid JSON'],
    [`${b64('[1]')}.${p}.sig`, 'invalid JSON'],
    [`${h}.${b64('null')}.sig`, 'invalid claims'],
    [`${h}.${b64('"str"')}.sig`, 'invalid claims'],
    [`${h}.${b64('{bad')}.sig`, 'invalid JSON'],
    [`${b64('{"alg":"none"}')}.${p}.`, 'invalid alg'],
    [`${b64('{"alg":"None"}')}.${p}.`, 'invalid alg'],
    [`${b64('{"alg":"HS257"}')}.${p}.sig`, 'invalid alg'],
    [`${b64('{"alg":1}')}.${p}.sig`, 'invalid alg'],
    [`${b64('{"typ":"JWT"}')}.${p}.sig`, 'invalid alg'],
    [`${b64('{"alg":"HS256","crit":["b64"],"b64":false}')}.${p}.sig`, 'unsupported crit'],
  ]
  for (const [token, reason] of cases) assert.equal(decodeToken(token), reason, token)
})

test('an empty signature decodes (and fails verification later), a token without one is forged', () => {
  const t = forge({ alg: 'HS256' }, { iss: 'a' }, null)
  const d = decodeToken(t)
  assert.ok(typeof d !== 'string')
  assert.equal(d.signature.length, 0)
})

test('the size bound is 8 KiB', () => {
  assert.equal(MAX_TOKEN_LENGTH, 8192)
})

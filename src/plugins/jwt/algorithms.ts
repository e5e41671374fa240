import { constants, createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto'
import type { JwtAlgorithm } from '../../core/entities.js'

/** Checks one signature over a token's signing input; never throws. */
export type Verifier = (signingInput: string, signature: Buffer) => boolean

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }
const CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1' }
const EC_SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96 }

/**
 * An HMAC verifier (HS256/384/512) with node:crypto directly: synchronous, no promise per
 * request (jose's verify is async), and the comparison is constant-time.
 *
 * @example
 *   hmacVerifier('HS256', Buffer.from(secret))(signingInput, signature) // → true | false
 */
export function hmacVerifier(alg: JwtAlgorithm, secret: Buffer): Verifier {
  const hash = HASH[alg.slice(2)]!
  return (input, signature) => {
    const mac = createHmac(hash, secret).update(input, 'latin1').digest()
    // the MAC length is public (it follows from alg): checking it first leaks nothing
    return signature.length === mac.length && timingSafeEqual(mac, signature)
  }
}

/**
 * Why a public key cannot verify `alg`, or undefined when it can. Pins the key family (an RSA
 * key never verifies ES*, an EC key only its own curve) so a credential's key is only ever
 * used the way its algorithm says.
 *
 * @example
 *   keyMismatch('ES256', rsaKey) // → 'a rsa key cannot verify ES256'
 */
export function keyMismatch(alg: JwtAlgorithm, key: KeyObject): string | undefined {
  if (key.type !== 'public') return `a ${key.type} key cannot verify ${alg}`
  const type = key.asymmetricKeyType ?? ''
  const family = alg.slice(0, 2)
  const ok =
    family === 'RS'
      ? type === 'rsa'
      : family === 'PS'
        ? type === 'rsa' || type === 'rsa-pss'
        : family === 'ES'
          ? type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg]
          : alg === 'EdDSA'
            ? type === 'ed25519' || type === 'ed448'
            : false
  return ok ? undefined : `a ${type} key cannot verify ${alg}`
}

/**
 * A public-key verifier (RS*, PS*, ES256/384, EdDSA), synchronous; undefined when the key does
 * not fit the algorithm (see {@link keyMismatch}).
 *
 * @example
 *   publicKeyVerifier('RS256', createPublicKey(pem))?.(input, signature)
 */
export function publicKeyVerifier(alg: JwtAlgorithm, key: KeyObject): Verifier | undefined {
  if (keyMismatch(alg, key) !== undefined) return undefined
  const family = alg.slice(0, 2)
  const hash = HASH[alg.slice(2)] ?? null
  const guard = (check: (data: Buffer, signature: Buffer) => boolean): Verifier => {
    return (input, signature) => {
      try {
        return check(Buffer.from(input, 'latin1'), signature)
      } catch {
        return false
      }
    }
  }
  if (family === 'RS') return guard((d, s) => verify(hash, d, key, s))
  if (family === 'PS') {
    const opts = {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }
    return guard((d, s) => verify(hash, d, opts, s))
  }
  if (family === 'ES') {
    // JWS carries r||s (IEEE P1363), fixed length per curve, never DER
    const size = EC_SIGNATURE_BYTES[alg]!
    const opts = { key, dsaEncoding: 'ieee-p1363' as const }
    return guard((d, s) => s.length === size && verify(hash, d, opts, s))
  }
  return guard((d, s) => verify(null, d, key, s))
}

import { createHmac } from 'node:crypto'

/** Helpers for tests that need tokens no honest library would sign (alg none, forged headers). */

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')

/**
 * A compact JWS with exactly this header and payload, HMAC-signed with `secret` (or with the
 * given raw signature): the attacker's toolkit for the attack tests.
 *
 * @example
 *   forge({ alg: 'HS256' }, { iss: 'alice-iss' }, publicKeyPem) // HS256 keyed with a public key
 */
export function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | Buffer | null,
  hash = 'sha256',
): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`
  const sig = secret === null ? '' : b64(createHmac(hash, secret).update(input).digest())
  return `${input}.${sig}`
}

/** Seconds since the epoch, as the plugin reads the clock. */
export const nowS = () => Math.floor(Date.now() / 1000)

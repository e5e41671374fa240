import { createHash, scryptSync, timingSafeEqual } from 'node:crypto'

// Interactive-login cost (RFC 7914 §2): about 50 ms per hash on a current core.
const COST = { N: 16384, r: 8, p: 1 }
const KEY_LENGTH = 32
const HASH_SHAPE = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/

/**
 * True when `stored` is a basic-auth password hash produced by {@link hashPassword}.
 *
 * @example
 *   isPasswordHash('hunter2') // → false
 */
export function isPasswordHash(stored: string): boolean {
  return HASH_SHAPE.test(stored)
}

/**
 * Hashes a basic-auth password as `scrypt$N$r$p$salt$hash` (base64url). The salt is derived
 * from `saltSource` (the credential id) so that loading the same file twice gives the same
 * document and the same config hash; ids are unique, so salts still differ per credential.
 *
 * @example
 *   const stored = hashPassword('s3cret', credential.id)
 *   verifyPassword('s3cret', stored) // → true
 */
export function hashPassword(password: string, saltSource: string): string {
  const salt = createHash('sha256').update(`portico basic-auth salt:${saltSource}`).digest().subarray(0, 16)
  const hash = scryptSync(password, salt, KEY_LENGTH, COST)
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

/**
 * Checks a password against a stored hash in constant time. False for anything that is not a
 * well-formed hash (never throws on bad input).
 *
 * @example
 *   verifyPassword(given, credential.password)
 */
export function verifyPassword(password: string, stored: string): boolean {
  const m = HASH_SHAPE.exec(stored)
  if (!m) return false
  const [, n, r, p, salt = '', hash = ''] = m
  const expected = Buffer.from(hash, 'base64url')
  if (expected.length === 0) return false
  try {
    const actual = scryptSync(password, Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: 256 * 1024 * 1024,
    })
    return timingSafeEqual(actual, expected)
  } catch {
    // cost parameters scrypt refuses (N not a power of two, too much memory)
    return false
  }
}

import { createHash, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'

// Interactive-login cost (RFC 7914 §2): about 50 ms per hash on a current core.
const COST = { N: 16384, r: 8, p: 1 }
const KEY_LENGTH = 32
const HASH_SHAPE = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/
// what scrypt may use for a stored hash's cost parameters (N = 2^17, r = 8 needs 128 MiB)
const MAX_MEM = 256 * 1024 * 1024

/** A stored hash taken apart: what scrypt needs to recompute it, and the bytes to compare. */
interface ParsedHash {
  salt: Buffer
  expected: Buffer
  options: { N: number; r: number; p: number; maxmem: number }
}

function parseHash(stored: string): ParsedHash | undefined {
  const m = HASH_SHAPE.exec(stored)
  if (!m) return undefined
  const [, n, r, p, salt = '', hash = ''] = m
  const expected = Buffer.from(hash, 'base64url')
  if (expected.length === 0) return undefined
  return {
    salt: Buffer.from(salt, 'base64url'),
    expected,
    options: { N: Number(n), r: Number(r), p: Number(p), maxmem: MAX_MEM },
  }
}

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
 * Checks a password against a stored hash in constant time, synchronously: for tools and
 * tests. The request path uses {@link verifyPasswordAsync}. False for anything that is not a
 * well-formed hash (never throws on bad input).
 *
 * @example
 *   verifyPassword(given, credential.password)
 */
export function verifyPassword(password: string, stored: string): boolean {
  const h = parseHash(stored)
  if (h === undefined) return false
  try {
    return timingSafeEqual(scryptSync(password, h.salt, h.expected.length, h.options), h.expected)
  } catch {
    // cost parameters scrypt refuses (N not a power of two, too much memory)
    return false
  }
}

/**
 * {@link verifyPassword} on libuv's thread pool (`crypto.scrypt` with a callback): a ~50 ms
 * scrypt run must not stall every other request on the event loop (one wrong password a second
 * would otherwise cost the whole node 5 % of its time). Same answers; never rejects.
 *
 * @example
 *   await verifyPasswordAsync('alice-password', credential.password) // → true
 */
export function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored)
  if (h === undefined) return Promise.resolve(false)
  return new Promise((resolve) => {
    try {
      scrypt(password, h.salt, h.expected.length, h.options, (err, actual) =>
        resolve(err === null && timingSafeEqual(actual, h.expected)),
      )
    } catch {
      // cost parameters scrypt refuses synchronously (N not a power of two)
      resolve(false)
    }
  })
}

import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { BoundedCache } from '../auth-common/bounded-cache.js'

// The loader's hash format (config/password.ts): scrypt$N$r$p$salt$hash, base64url parts
const HASH_SHAPE = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/

/**
 * Checks a password against a stored `scrypt$…` hash like config's `verifyPassword`, but on
 * libuv's thread pool: a ~40 ms scrypt run must not stall every other request on the event
 * loop (one wrong password a second would otherwise cost the whole node 4 % of its time).
 * False for a malformed hash; never rejects.
 *
 * @example
 *   await verifyPasswordAsync('alice-password', credential.password) // → true
 */
export function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const m = HASH_SHAPE.exec(stored)
  if (m === null) return Promise.resolve(false)
  const [, n, r, p, salt = '', hash = ''] = m
  const expected = Buffer.from(hash, 'base64url')
  if (expected.length === 0) return Promise.resolve(false)
  return new Promise((resolve) => {
    try {
      scrypt(
        password,
        Buffer.from(salt, 'base64url'),
        expected.length,
        { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 },
        (err, actual) => resolve(err === null && timingSafeEqual(actual, expected)),
      )
    } catch {
      // cost parameters scrypt refuses synchronously (N not a power of two)
      resolve(false)
    }
  })
}

/**
 * Remembers successful verifications so the request path runs scrypt once per (credential,
 * stored hash, password), not once per request. Entries are keyed by an HMAC under a key that
 * only lives in this process's memory: the cache holds nothing an attacker could brute-force
 * offline, and a changed password (new stored hash) never matches an old entry. Concurrent
 * checks of the same triple share one scrypt run. Failures are not remembered.
 *
 * @example
 *   const ok = verified.check(cred.id, cred.password, given) // boolean, or a promise on a miss
 */
export class VerifiedPasswords {
  readonly #key = randomBytes(32)
  readonly #ok: BoundedCache<string, true>
  readonly #running = new Map<string, Promise<boolean>>()
  /** scrypt runs started (for tests and status) */
  runs = 0

  constructor(max = 10_000) {
    this.#ok = new BoundedCache(max)
  }

  check(credentialId: string, stored: string, password: string): boolean | Promise<boolean> {
    const k = createHmac('sha256', this.#key)
      .update(credentialId)
      .update('\0')
      .update(stored)
      .update('\0')
      .update(password)
      .digest('base64')
    if (this.#ok.get(k) === true) return true
    let p = this.#running.get(k)
    if (p === undefined) {
      this.runs++
      p = verifyPasswordAsync(password, stored).then((ok) => {
        this.#running.delete(k)
        if (ok) this.#ok.set(k, true)
        return ok
      })
      this.#running.set(k, p)
    }
    return p
  }
}

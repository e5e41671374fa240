import { createHmac, randomBytes } from 'node:crypto'
import { verifyPasswordAsync } from '../../../config/password.js'
import { BoundedCache } from './bounded-cache.js'

/** Successful verifications remembered per node by default. */
export const VERIFIED_PASSWORDS_MAX = 10_000

/**
 * Remembers successful password verifications so the request path runs scrypt (on the thread
 * pool, {@link verifyPasswordAsync}) once per (credential, stored hash, password), not once per
 * request. Bounded (least recently used go first). Entries are keyed by an HMAC under a key that
 * only lives in this process's memory: the cache holds nothing an attacker could brute-force
 * offline, and a changed password (new stored hash) never matches an old entry. Concurrent
 * checks of the same triple share one scrypt run. Failures are not remembered.
 *
 * @example
 *   const ok = verified.check(cred.id, cred.password, given) // boolean on a hit, else a promise
 */
export class VerifiedPasswords {
  readonly #key = randomBytes(32)
  readonly #ok: BoundedCache<string, true>
  readonly #running = new Map<string, Promise<boolean>>()
  /** scrypt runs started (for tests and status) */
  runs = 0

  constructor(max = VERIFIED_PASSWORDS_MAX) {
    this.#ok = new BoundedCache(max)
  }

  get size(): number {
    return this.#ok.size
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
